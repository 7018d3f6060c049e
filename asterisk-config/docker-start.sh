#!/bin/sh
# Container start-up for the Asterisk service of docker-compose.yml: installs Faxbot's configuration over the
# image's defaults, renders the two files that hold credentials from the environment, prepares the shared fax
# spool, then runs Asterisk in the foreground. Secrets come from the environment only; nothing is baked in.
set -eu
SRC=/opt/faxbot-config
ETC=/etc/asterisk
# A container is a PBX of its own: Faxbot's files replace the image's (extensions.conf is the whole dialplan).
for f in extensions.conf http.conf modules.conf res_fax.conf udptl.conf; do cp "$SRC/$f" "$ETC/$f"; done
# ARI must answer the faxbot container over the compose network (the port is not published to the host).
sed -i "s/^bindaddr = .*/bindaddr = ${ARI_BIND_ADDRESS:-0.0.0.0}/" "$ETC/http.conf"
# ari.conf and the trunk (pjsip_faxbot.conf) carry credentials: rendered from the environment at each start.
"$SRC/render.sh" "$ETC" ari.conf pjsip.conf
printf '#include pjsip_faxbot.conf\n' > "$ETC/pjsip.conf"
# The spool is a volume shared with the faxbot container only: out/ (Faxbot writes, Asterisk reads) and
# in/ (Asterisk writes, Faxbot reads). The two containers run as different users, hence group/other access.
mkdir -p /var/spool/asterisk/fax/out /var/spool/asterisk/fax/in
chmod 0777 /var/spool/asterisk/fax/out /var/spool/asterisk/fax/in
exec asterisk -f -U "${ASTERISK_RUN_USER:-asterisk}" -vvv
