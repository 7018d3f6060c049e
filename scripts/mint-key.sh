#!/usr/bin/env bash
# Mints an API key in the database the service uses (same environment / FAXBOT_ENV_FILE as the service).
# The token is printed once on stdout. Example:
#   FAX_DATA_DIR=/faxdata scripts/mint-key.sh --name "billing" --scopes fax:send,fax:read
set -euo pipefail
cd "$(dirname "$0")/.."
# From a source checkout run the sources (a dist/ left from an older build could lack newer migrations);
# in the container image there are no sources, only the build.
if [ -f src/cli/mint-key.ts ] && [ -d node_modules/tsx ]; then exec node --import tsx src/cli/mint-key.ts "$@"; fi
exec node dist/src/cli/mint-key.js "$@"
