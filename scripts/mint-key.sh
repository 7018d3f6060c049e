#!/usr/bin/env bash
# Mints an API key in the database the service uses (same environment / FAXBOT_ENV_FILE as the service).
# The token is printed once on stdout. Example:
#   FAX_DATA_DIR=/faxdata scripts/mint-key.sh --name "billing" --scopes fax:send,fax:read
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f dist/src/cli/mint-key.js ]; then exec node dist/src/cli/mint-key.js "$@"; fi
exec node --import tsx src/cli/mint-key.ts "$@"
