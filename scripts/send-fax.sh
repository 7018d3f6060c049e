#!/usr/bin/env bash
# Sends a fax through a Faxbot API and follows its status until it is final.
#   FAXBOT_URL=http://127.0.0.1:8080 FAXBOT_API_KEY=... scripts/send-fax.sh +15551234567 letter.pdf
# Exit status: 0 when the fax ends SUCCESS, 1 when it ends FAILED or disabled, 2 on a usage or API error.
set -euo pipefail
url="${FAXBOT_URL:-http://127.0.0.1:8080}"
key="${FAXBOT_API_KEY:-}"
timeout="${FAXBOT_WAIT_SECONDS:-900}"
if [ $# -ne 2 ]; then echo "usage: $0 <number> <file.pdf|file.txt>" >&2; exit 2; fi
to="$1"; file="$2"
[ -r "$file" ] || { echo "cannot read $file" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 2; }
hdr=(); [ -n "$key" ] && hdr=(-H "X-API-Key: $key")
# A fixed idempotency key per invocation: re-running after a network error never sends twice.
idem="send-fax-$(date +%s)-$$"
resp=$(curl -sS -w '\n%{http_code}' "${hdr[@]}" -H "Idempotency-Key: $idem" -F "to=$to" -F "file=@$file" "$url/fax")
code=$(tail -n1 <<<"$resp"); body=$(sed '$d' <<<"$resp")
if [ "$code" != 202 ]; then echo "POST /fax answered $code: $body" >&2; exit 2; fi
field() { sed -n "s/.*\"$1\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" <<<"$2" | tr -d '"'; }
id=$(field id "$body")
echo "job $id queued"
last=""; deadline=$(( $(date +%s) + timeout ))
while :; do
  body=$(curl -sS "${hdr[@]}" "$url/fax/$id")
  status=$(field status "$body")
  if [ "$status" != "$last" ]; then
    err=$(field error "$body"); pages=$(field pages "$body")
    echo "$(date -u +%H:%M:%SZ) $status${pages:+ pages=$pages}${err:+ error=$err}" | sed 's/ error=null//; s/ pages=null//'
    last="$status"
  fi
  case "$status" in
    SUCCESS) exit 0 ;;
    FAILED|disabled) exit 1 ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || { echo "still $status after ${timeout}s" >&2; exit 1; }
  sleep 2
done
