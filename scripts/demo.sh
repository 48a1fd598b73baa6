#!/usr/bin/env bash
# `make demo`: a throwaway Git repository with planted secrets — one in the working tree, one only in an old
# commit — and vulnerable lockfiles, scanned by `plumbline check` (tree, then history). The tokens are random,
# made here, never real. Advisories come from the hand-written npm set in examples/advisories/npm (and the
# shared PyPI and Go exports when they are there), imported into a throwaway advisory database.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
plumbline=(node "$here/bin/plumbline.js")
out="$here/demo-out"
repo="$(mktemp -d "${TMPDIR:-/tmp}/plumbline-demo.XXXXXX")"
data="$repo.advisories"
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

# Lockfiles pulling in versions with known advisories: lodash through a transitive dependency, minimist
# directly, and an old Django and Requests.
cat > package-lock.json <<'JSON'
{
  "name": "demo-shop",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": { "name": "demo-shop", "version": "1.0.0", "dependencies": { "minimist": "^1.2.5", "templater": "^1.0.0" } },
    "node_modules/lodash": { "version": "4.17.15", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.15.tgz" },
    "node_modules/minimist": { "version": "1.2.5", "resolved": "https://registry.npmjs.org/minimist/-/minimist-1.2.5.tgz" },
    "node_modules/templater": {
      "version": "1.0.0",
      "resolved": "https://registry.npmjs.org/templater/-/templater-1.0.0.tgz",
      "dependencies": { "lodash": "^4.17.15" }
    }
  }
}
JSON
printf 'django==2.2.0\nrequests==2.19.0\n' > requirements.txt
git add . && git commit -q -m "dependencies"

# Not secrets: a placeholder, an environment read, a template.
cat > app/config.example.env <<ENV
API_TOKEN=changeme
DB_PASSWORD=\${DB_PASSWORD}
ENV
git add . && git commit -q -m "example env"

sources=("$here/examples/advisories/npm")
for zip in "$here/../shared/data/osv/PyPI.zip" "$here/../shared/data/osv/Go.zip"; do
  if [ -f "$zip" ]; then sources+=("$zip"); fi
done
echo "▶ plumbline db import (an offline OSV advisory database for the demo)"
"${plumbline[@]}" db import "${sources[@]}" --data-dir "$data"
echo
echo "▶ demo repository: $repo"
echo
echo "▶ plumbline check (working tree: secrets and vulnerable dependencies; --fail-on high)"
set +e
"${plumbline[@]}" check "$repo" --data-dir "$data" --format text --format sarif --output "$out/plumbline.sarif"
tree_status=$?
echo
echo "▶ plumbline check --history --only secrets (every commit; finds the token removed from deploy/ci.sh)"
"${plumbline[@]}" check "$repo" --history --only secrets --format text --format sarif --output "$out/plumbline-history.sarif"
history_status=$?
set -e
echo
echo "▶ plumbline sbom (CycloneDX 1.5)"
"${plumbline[@]}" sbom "$repo" --output "$out/sbom.cdx.json"
echo
echo "Exit codes: tree $tree_status, history $history_status (1 = findings at or above the threshold)."
echo "SARIF written to:"
echo "  $out/plumbline.sarif"
echo "  $out/plumbline-history.sarif"
echo "SBOM: $out/sbom.cdx.json"
echo "Open the SARIF in VS Code's SARIF viewer, or upload it to GitHub code scanning."
echo
echo "━━ Deliver: the GitOps controller on this host ━━"
node "$here/scripts/demo-up.mjs"
