# osrun:installer/j2ee_state
# Reads the installed Platform Server version and the version whose
# configuration osrun left unfinished, if any. Changes nothing.
home='/opt/outsystems/platform'
marker='/var/tmp/osrun/pending-configuration'
if [ -r "$home/version.txt" ]; then
	printf 'osrun-version=%s\n' "$(head -n 1 "$home/version.txt" | tr -d '\r')"
fi
if [ -r "$marker" ]; then
	printf 'osrun-pending=%s\n' "$(head -n 1 "$marker")"
fi
