# osrun:installer/j2ee_state
# Reads the installed Platform Server version, the version whose
# configuration osrun left unfinished, if any, and the process id of an
# installer osrun started that is still running (a run that lost its
# connection leaves it running), or "starting" when one was about to start.
# Changes nothing.
home='/opt/outsystems/platform'
marker='/var/tmp/osrun/pending-configuration'
running='/var/tmp/osrun/installer-running'
if [ -r "$home/version.txt" ]; then
	printf 'osrun-version=%s\n' "$(head -n 1 "$home/version.txt" | tr -d '\r')"
fi
if [ -r "$marker" ]; then
	printf 'osrun-pending=%s\n' "$(head -n 1 "$marker")"
fi
alive=
if [ -r "$running" ]; then
	pid=$(head -n 1 "$running")
	case $pid in
	'' | *[!0-9]*) ;;
	*) if [ -d "/proc/$pid" ] || kill -0 "$pid" 2>/dev/null; then alive=$pid; fi ;;
	esac
fi
# An installer command sent in the last 30 seconds whose shell has not
# written its process id yet (j2ee_intent.sh) may still be starting.
intent='/var/tmp/osrun/installer-running.intent'
if [ -z "$alive" ] && [ -e "$intent" ]; then
	age=$(( $(date +%s) - $(stat -c %Y "$intent" 2>/dev/null || echo 0) ))
	if [ "$age" -lt 30 ]; then
		alive=starting
	fi
fi
if [ -n "$alive" ]; then
	printf 'osrun-running=%s\n' "$alive"
fi
