#!/bin/sh
# Fake configurationtool.sh for the tests: records its arguments and exits
# with the status in $SANDBOX/configtool.exit (0 when absent), leaving an
# error in its log when it fails.
echo "$*" >> "$SANDBOX/configtool.log"
echo "Upgrading the platform installation..."
code=$(cat "$SANDBOX/configtool.exit" 2>/dev/null || echo 0)
if [ "$code" != 0 ]; then
	mkdir -p "$OS_HOME/logs"
	echo "ERROR: could not connect to the platform database" >> "$OS_HOME/logs/ConfigurationTool.log"
	echo "Configuration failed" >&2
fi
exit "$code"
