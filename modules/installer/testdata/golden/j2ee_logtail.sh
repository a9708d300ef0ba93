# osrun:installer/j2ee_logtail
# Prints the last lines of the newest Configuration Tool log, for an error
# report. Changes nothing.
home='/opt/outsystems/platform'
log=$(ls -t "$home"/logs/[Cc]onfiguration[Tt]ool*.log 2>/dev/null | head -n 1)
if [ -z "$log" ]; then
	echo "no Configuration Tool log under $home/logs"
	exit 0
fi
echo "==> $log <=="
tail -n 40 "$log"
