# osrun:installer/j2ee_configure
# Runs the Configuration Tool unattended to upgrade this server's
# installation{{if .Controller}} and (this host is the controller) Service Center{{end}}. On success it
# forgets the pending marker and deletes the uploaded files.
set -e
home={{sh .Home}}
cd "$home"
"$home/configurationtool.sh" /silent /upgradeinstall{{if .Controller}} /scinstall{{end}}
rm -f {{sh .Marker}}{{range .Cleanup}} {{sh .}}{{end}}
echo osrun-configured=ok
