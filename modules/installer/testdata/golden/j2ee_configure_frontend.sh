# osrun:installer/j2ee_configure
# Runs the Configuration Tool unattended to upgrade this server's
# installation. On success it
# forgets the pending marker and deletes the uploaded files.
set -e
home='/opt/outsystems/platform'
cd "$home"
"$home/configurationtool.sh" /silent /upgradeinstall
rm -f '/var/tmp/osrun/pending-configuration' '/var/tmp/osrun/a.rpm'
echo osrun-configured=ok
