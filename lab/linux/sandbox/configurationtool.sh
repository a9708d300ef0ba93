#!/bin/sh
# The lab's configurationtool.sh: records its arguments and exits with the
# status in $SANDBOX/state/configtool.exit (0 when absent), logging to
# $OUTSYSTEMS_HOME/logs/ConfigurationTool.log like the real one.
echo "$*" >> "$SANDBOX/state/configtool.log"
mkdir -p "$OUTSYSTEMS_HOME/logs"
log="$OUTSYSTEMS_HOME/logs/ConfigurationTool.log"
echo "Upgrading the platform installation..."
echo "$(date '+%Y-%m-%d %H:%M:%S') configurationtool.sh $*" >> "$log"
code=$(cat "$SANDBOX/state/configtool.exit" 2>/dev/null || echo 0)
if [ "$code" != 0 ]; then
	echo "ERROR: could not connect to the platform database" >> "$log"
	echo "Configuration failed" >&2
	exit "$code"
fi
echo "Configuration finished" >> "$log"
