#!/bin/bash
# Container start-up for the FreeSWITCH profile of docker-compose.yml: renders Faxbot's configuration from the
# environment into the image's configuration directory, prepares the shared fax spool, then runs FreeSWITCH.
set -euo pipefail
SRC=/opt/faxbot-config
CONF=${FREESWITCH_CONF_DIR:-/etc/freeswitch}
OUT=$(mktemp -d)
"$SRC/render.sh" "$OUT"
cp -r "$OUT"/. "$CONF"/
rm -rf "$OUT"
mkdir -p /var/spool/freeswitch/fax/out /var/spool/freeswitch/fax/in
chmod 0777 /var/spool/freeswitch/fax/out /var/spool/freeswitch/fax/in
exec freeswitch -nonat -nf -conf "$CONF"
