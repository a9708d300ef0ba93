# osrun:installer/j2ee_state
# Reads whether an installer osrun started is still running (a run that
# lost its connection leaves it running: its process id, or "starting" when
# one was about to start), the installed Platform Server version, and the
# version whose configuration osrun left unfinished, if any. Changes nothing.
#
# The order matters: the installer writes version.txt before its shell
# removes the process id file, so whatever is read after seeing no installer
# running is what that installer left. Reading the version first could pair
# the old version with "no installer running" (it ended in between), and
# osrun would start a second one.
home={{sh .Home}}
marker={{sh .Marker}}
running={{sh .Running}}
# An installer command sent in the last 30 seconds whose shell has not
# written its process id yet (j2ee_intent.sh) may still be starting. Read
# first for the same reason: the shell writes its process id, then removes
# this record.
intent={{sh (printf "%s.intent" .Running)}}
starting=
if [ -e "$intent" ]; then
	age=$(( $(date +%s) - $(stat -c %Y "$intent" 2>/dev/null || echo 0) ))
	if [ "$age" -lt 30 ]; then
		starting=yes
	fi
fi
alive=
if [ -r "$running" ]; then
	pid=$(head -n 1 "$running")
	case $pid in
	'' | *[!0-9]*) ;;
	*) if [ -d "/proc/$pid" ] || kill -0 "$pid" 2>/dev/null; then alive=$pid; fi ;;
	esac
fi
if [ -z "$alive" ] && [ -n "$starting" ]; then
	alive=starting
fi
if [ -n "$alive" ]; then
	printf 'osrun-running=%s\n' "$alive"
fi
if [ -r "$home/version.txt" ]; then
	printf 'osrun-version=%s\n' "$(head -n 1 "$home/version.txt" | tr -d '\r')"
fi
if [ -r "$marker" ]; then
	printf 'osrun-pending=%s\n' "$(head -n 1 "$marker")"
fi
