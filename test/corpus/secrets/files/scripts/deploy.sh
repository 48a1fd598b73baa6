#!/usr/bin/env bash
set -euo pipefail

: "${DEPLOY_TOKEN:?DEPLOY_TOKEN must be set}"
REGISTRY_PASSWORD="$(aws ecr get-login-password --region eu-west-1)"
echo "$REGISTRY_PASSWORD" | docker login --username AWS --password-stdin "$REGISTRY"
export GITHUB_TOKEN=$(gh auth token)
curl -fsS -H "Authorization: Bearer ${DEPLOY_TOKEN}" "https://deploy.acme-corp.net/api/releases"
SLACK_WEBHOOK="https://hooks.slack.com/services/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"
read -rsp "Vault password: " VAULT_PASSWORD
curl -fsS -X POST -d "{\"text\": \"deployed $VERSION\"}" "$SLACK_WEBHOOK"
