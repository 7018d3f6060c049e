#!/usr/bin/env bash
# Smoke test for a deployment: liveness, readiness (printing each check), an authenticated read, and
# optionally one real fax (SMOKE_FAX_TO=<number>; on the sandbox backend use e.g. +15550000001).
#   FAXBOT_URL=https://fax.example.org FAXBOT_API_KEY=... scripts/smoke-test.sh
set -euo pipefail
url="${FAXBOT_URL:-http://127.0.0.1:8080}"
key="${FAXBOT_API_KEY:-}"
fail=0
check() { if "$@"; then echo "ok   $desc"; else echo "FAIL $desc"; fail=1; fi; }

desc="GET /health answers ok"
check bash -c "curl -fsS '$url/health' | grep -q '\"ok\"'"

desc="GET /health/ready is 200"
ready=$(curl -sS -w '\n%{http_code}' "$url/health/ready" || true)
code=$(tail -n1 <<<"$ready")
echo "     readiness: $(sed '$d' <<<"$ready")"
check test "$code" = 200

if [ -n "$key" ]; then
  desc="the API key is accepted (GET /fax/<unknown> is 404, not 401/403)"
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" "$url/fax/smoke-test-unknown-id")
  check test "$code" = 404
fi

if [ -n "${SMOKE_FAX_TO:-}" ]; then
  desc="a fax to $SMOKE_FAX_TO ends SUCCESS"
  tmp=$(mktemp --suffix=.txt); trap 'rm -f "$tmp"' EXIT
  printf 'Faxbot smoke test\n%s\n' "$(date -u)" >"$tmp"
  check env FAXBOT_URL="$url" FAXBOT_API_KEY="$key" "$(dirname "$0")/send-fax.sh" "$SMOKE_FAX_TO" "$tmp"
fi
exit $fail
