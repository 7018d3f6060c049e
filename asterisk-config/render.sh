#!/bin/sh
# Renders the two Faxbot Asterisk templates that hold credentials (ari.conf, pjsip.conf) from the
# environment into OUTDIR. Nothing else needs rendering: the dialplan reads per-job values from
# channel variables and per-site values from ${ENV(...)} at run time.
#
#   ARI_USERNAME=faxbot ARI_PASSWORD=... \
#   FAXBOT_TRUNK_HOST=sip.example.net FAXBOT_TRUNK_USERNAME=... FAXBOT_TRUNK_PASSWORD=... \
#     ./render.sh /etc/asterisk/faxbot-rendered [ari.conf] [pjsip.conf]
#
# Writes OUTDIR/ari.conf and OUTDIR/pjsip_faxbot.conf (mode 0640). The ARI password is stored as a
# SHA-512 crypt hash when openssl is available (ARI_PASSWORD_FORMAT=plain forces plain text).
# Only the placeholders named below are replaced; values never appear on the command line or in output.
set -eu

usage() { echo "usage: $0 OUTDIR [ari.conf] [pjsip.conf]" >&2; exit 2; }
[ $# -ge 1 ] || usage
OUTDIR=$1; shift
[ $# -gt 0 ] || set -- ari.conf pjsip.conf
HERE=$(cd "$(dirname "$0")" && pwd)

need() {
  for v in "$@"; do
    eval "val=\${$v-}"
    if [ -z "$val" ]; then echo "render.sh: $v is not set" >&2; exit 1; fi
    case "$val" in
      *"
"*) echo "render.sh: $v must be a single line" >&2; exit 1 ;;
    esac
  done
}

# Literal replacement of ${NAME} for the listed names; ";" in a value is escaped (it starts a comment).
render() {
  template=$1; out=$2
  umask 027
  awk '
    BEGIN { n = split("ARI_USERNAME ARI_PASSWORD ARI_PASSWORD_FORMAT FAXBOT_TRUNK_HOST FAXBOT_TRUNK_USERNAME FAXBOT_TRUNK_PASSWORD", names, " ") }
    {
      line = $0
      for (i = 1; i <= n; i++) {
        ph = "${" names[i] "}"
        val = ENVIRON[names[i]]
        gsub(/;/, "\\;", val)
        out = ""
        while ((p = index(line, ph)) > 0) {
          out = out substr(line, 1, p - 1) val
          line = substr(line, p + length(ph))
        }
        line = out line
      }
      print line
    }' "$template" > "$out.tmp"
  mv "$out.tmp" "$out"
}

mkdir -p "$OUTDIR"
for f in "$@"; do
  case "$f" in
    ari.conf)
      need ARI_USERNAME ARI_PASSWORD
      case "$ARI_USERNAME" in *[!A-Za-z0-9_.-]*) echo "render.sh: ARI_USERNAME may contain only letters, digits, _ . -" >&2; exit 1 ;; esac
      if [ "${ARI_PASSWORD_FORMAT:-}" != plain ] && command -v openssl >/dev/null 2>&1; then
        ARI_PASSWORD=$(printf '%s\n' "$ARI_PASSWORD" | openssl passwd -6 -stdin)
        ARI_PASSWORD_FORMAT=crypt
      else
        ARI_PASSWORD_FORMAT=plain
      fi
      export ARI_USERNAME ARI_PASSWORD ARI_PASSWORD_FORMAT
      render "$HERE/ari.conf" "$OUTDIR/ari.conf"
      echo "wrote $OUTDIR/ari.conf (password_format=$ARI_PASSWORD_FORMAT)"
      ;;
    pjsip.conf)
      need FAXBOT_TRUNK_HOST FAXBOT_TRUNK_USERNAME FAXBOT_TRUNK_PASSWORD
      export FAXBOT_TRUNK_HOST FAXBOT_TRUNK_USERNAME FAXBOT_TRUNK_PASSWORD
      render "$HERE/pjsip.conf" "$OUTDIR/pjsip_faxbot.conf"
      echo "wrote $OUTDIR/pjsip_faxbot.conf"
      ;;
    *) usage ;;
  esac
done
