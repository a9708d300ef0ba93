# osrun:installer/j2ee_install
# Records that the configuration of this version is pending (so a run that
# fails after the upgrade resumes with the Configuration Tool) and this
# shell's process id while the installer runs (so a run that lost its
# connection waits for it rather than starting another), then
# upgrades the platform packages.
# The installer writes to a file, shown when it ends, and a lost connection
# (SIGHUP, SIGPIPE) stops neither it nor this script.
set -e
trap '' HUP PIPE
printf '%s\n' '11.31.0' > '/var/tmp/osrun/pending-configuration'
printf '%s\n' "$$" > '/var/tmp/osrun/installer-running'
rm -f '/var/tmp/osrun/installer-running.intent'
status=0
rpm -Uvh '/var/tmp/osrun/outsystems-agileplatform-11.31.0.rpm' '/var/tmp/osrun/outsystems-agileplatform-wildfly8-11.31.0.rpm' > '/var/tmp/osrun/installer-output.log' 2>&1 || status=$?
rm -f '/var/tmp/osrun/installer-running'
cat '/var/tmp/osrun/installer-output.log' || true
rm -f '/var/tmp/osrun/installer-output.log'
exit "$status"
