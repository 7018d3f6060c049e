#!/usr/bin/env bash
# Renders the Faxbot FreeSWITCH configuration: replaces every @NAME@ placeholder with the environment
# variable NAME (XML-escaped) and writes the result under OUTDIR, keeping the directory layout.
#
#   FREESWITCH_ESL_PASSWORD=... FREESWITCH_GATEWAY_NAME=carrier1 SIP_TRUNK_PROXY=sip.example.net \
#   SIP_TRUNK_USERNAME=... SIP_TRUNK_PASSWORD=... FREESWITCH_INBOUND_DID_REGEX='^\+?15551234567$' \
#   ./render.sh /tmp/faxbot-fs      # then copy into /etc/freeswitch (see README.md)
#
# Secrets come only from the environment; the files in this directory hold placeholders.
# Refuses to run when a required variable is missing or a placeholder is left unreplaced.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true # bash 5.2: "&" in ${x//a/b} would mean "the match"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-}"
if [[ -z "$out" ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

# Defaults for the optional settings.
: "${FREESWITCH_ESL_LISTEN_IP:=127.0.0.1}"
: "${FREESWITCH_ESL_PORT:=8021}"
: "${FREESWITCH_ESL_ACL:=loopback.auto}"
: "${FREESWITCH_INBOUND_DIR:=/var/spool/freeswitch/fax/in}"
: "${FAXBOT_FAX_IDENT:=}"
: "${FAXBOT_FAX_HEADER:=Faxbot}"
: "${SIP_TRUNK_REALM:=${SIP_TRUNK_PROXY:-}}"
: "${SIP_TRUNK_REGISTER:=true}"
: "${SIP_TRUNK_TRANSPORT:=udp}"

missing=()
for name in FREESWITCH_ESL_PASSWORD FREESWITCH_GATEWAY_NAME SIP_TRUNK_PROXY SIP_TRUNK_USERNAME SIP_TRUNK_PASSWORD FREESWITCH_INBOUND_DID_REGEX; do
  [[ -n "${!name:-}" ]] || missing+=("$name")
done
if ((${#missing[@]} > 0)); then
  echo "render.sh: missing required environment variables: ${missing[*]}" >&2
  exit 1
fi
if [[ "$FREESWITCH_ESL_PASSWORD" == "ClueCon" ]]; then
  echo "render.sh: FREESWITCH_ESL_PASSWORD is FreeSWITCH's well-known default; choose another" >&2
  exit 1
fi
if [[ ! "$FREESWITCH_GATEWAY_NAME" =~ ^[A-Za-z0-9_.-]{1,64}$ ]]; then
  echo "render.sh: FREESWITCH_GATEWAY_NAME may only contain letters, digits, _ . -" >&2
  exit 1
fi
if [[ ! "$FAXBOT_FAX_IDENT" =~ ^[0-9+\ ]{0,20}$ ]]; then
  echo "render.sh: FAXBOT_FAX_IDENT may only hold up to 20 digits, + and spaces" >&2
  exit 1
fi
if [[ "$FREESWITCH_INBOUND_DIR" != /* || "$FREESWITCH_INBOUND_DIR" =~ [[:space:]\)\(] ]]; then
  echo "render.sh: FREESWITCH_INBOUND_DIR must be an absolute path without spaces or parentheses" >&2
  exit 1
fi

xml_escape() {
  local v="$1"
  v="${v//&/&amp;}"
  v="${v//</&lt;}"
  v="${v//>/&gt;}"
  v="${v//\"/&quot;}"
  v="${v//\'/&apos;}"
  printf '%s' "$v"
}

render() {
  local src="$1" dst="$2" rest out="" token name value
  rest="$(<"$src")"
  # One pass, left to right: a value that happens to contain "@X@" is never rendered again.
  while [[ "$rest" =~ @([A-Z][A-Z0-9_]*)@ ]]; do
    token="${BASH_REMATCH[0]}"
    name="${BASH_REMATCH[1]}"
    if [[ -z "${!name+set}" ]]; then
      echo "render.sh: $src uses $token but $name is not set" >&2
      exit 1
    fi
    # FreeSWITCH expands $${name} in its XML before parsing; there is no escape for it.
    if [[ "${!name}" == *'$${'* ]]; then
      echo "render.sh: $name must not contain \"\$\${\"" >&2
      exit 1
    fi
    value="$(xml_escape "${!name}")"
    out+="${rest%%"$token"*}$value"
    rest="${rest#*"$token"}"
  done
  out+="$rest"
  mkdir -p "$(dirname "$dst")"
  umask 027 # the rendered files hold the ESL and trunk passwords (group: the freeswitch user)
  printf '%s\n' "$out" >"$dst"
}

count=0
while IFS= read -r -d '' f; do
  rel="${f#"$here"/}"
  render "$f" "$out/$rel"
  count=$((count + 1))
done < <(find "$here" -type f \( -name '*.xml' -o -name '*.lua' \) -print0 | sort -z)

echo "render.sh: wrote $count files under $out" >&2
