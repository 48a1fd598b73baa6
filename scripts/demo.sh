#!/usr/bin/env bash
# `make demo`: a throwaway Git repository with planted secrets — one in the working tree, one only in an old
# commit — scanned by `plumbline check` (tree, then history). The tokens are random, made here, never real.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
plumbline=(node "$here/bin/plumbline.js")
out="$here/demo-out"
repo="$(mktemp -d "${TMPDIR:-/tmp}/plumbline-demo.XXXXXX")"
rm -rf "$out" && mkdir -p "$out"

rand() { node -e "const a=process.argv[1];let s='';const b=require('crypto').randomBytes(+process.argv[2]);for(const x of b)s+=a[x%a.length];process.stdout.write(s)" "$1" "$2"; }
upper='ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
alnum='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

cd "$repo"
git init -q -b main
git config user.name "Dee Veloper"
git config user.email dee@example.com
mkdir -p app deploy
cat > app/settings.py <<PY
import os

DATABASE_URL = os.environ["DATABASE_URL"]
AWS_ACCESS_KEY_ID = "AKIA$(rand "$upper" 16)"
DEBUG = False
PY
git add . && git commit -q -m "app settings"

# A secret committed, then "removed": it stays in history.
cat > deploy/ci.sh <<SH
#!/bin/sh
export GITHUB_TOKEN=ghp_$(rand "$alnum" 36)
./deploy
SH
git add . && git commit -q -m "ci script"
printf '#!/bin/sh\n./deploy\n' > deploy/ci.sh
git commit -qam "remove token from ci script"

# Not secrets: a placeholder, an environment read, a template.
cat > app/config.example.env <<ENV
API_TOKEN=changeme
DB_PASSWORD=\${DB_PASSWORD}
ENV
git add . && git commit -q -m "example env"

echo "▶ demo repository: $repo"
echo
echo "▶ plumbline check (working tree)"
set +e
"${plumbline[@]}" check "$repo" --format text --format sarif --output "$out/plumbline.sarif"
tree_status=$?
echo
echo "▶ plumbline check --history (every commit; finds the token removed from deploy/ci.sh)"
"${plumbline[@]}" check "$repo" --history --format text --format sarif --output "$out/plumbline-history.sarif"
history_status=$?
set -e
echo
echo "Exit codes: tree $tree_status, history $history_status (1 = findings at or above the threshold)."
echo "SARIF written to:"
echo "  $out/plumbline.sarif"
echo "  $out/plumbline-history.sarif"
echo "Open them in VS Code's SARIF viewer, or upload them to GitHub code scanning."
