#!/bin/sh
# The lab's J2EE Platform Server installer: osrun uploads it and runs it as
# root with OSRUN_VERSION set. It stops the application server, upgrades
# $OUTSYSTEMS_HOME to OSRUN_VERSION (taking INSTALL_SECONDS), and fails
# with the message in $SANDBOX/state/install.fail when that file exists.
# Each run adds a line to $SANDBOX/state/installs (Host.Installs).
set -e
home=${OUTSYSTEMS_HOME:-/opt/outsystems/platform}
log="$home/logs/installer.log"
mkdir -p "$home/logs"
echo "$OSRUN_VERSION $(date +%H:%M:%S.%N) pid $$ ppid $PPID" >> "$SANDBOX/state/installs"
echo "Stopping the application server..."
echo "Upgrading OutSystems Platform Server $(head -n 1 "$home/version.txt") to $OSRUN_VERSION"
echo "upgrade to $OSRUN_VERSION" >> "$log"
sleep INSTALL_SECONDS
if [ -r "$SANDBOX/state/install.fail" ]; then
	cat "$SANDBOX/state/install.fail" >> "$log"
	echo "Installation failed; last lines of $log:" >&2
	tail -n 5 "$log" >&2
	exit 1
fi
# Replaced, not rewritten in place: a reader never sees it empty.
printf '%s\n' "$OSRUN_VERSION" > "$home/version.txt.new"
mv -f "$home/version.txt.new" "$home/version.txt"
echo "Platform Server $OSRUN_VERSION installed"
