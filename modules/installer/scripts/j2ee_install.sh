# osrun:installer/j2ee_install
# Records that the configuration of this version is pending (so a run that
# fails after the upgrade resumes with the Configuration Tool) and this
# shell's process id while the installer runs (so a run that lost its
# connection waits for it rather than starting another), then
# {{if .Packages}}upgrades the platform packages{{else if .Yum}}updates the platform packages from the configured repositories{{else}}runs the given installer script{{end}}.
# The installer writes to a file, shown when it ends, and a lost connection
# (SIGHUP, SIGPIPE) stops neither it nor this script.
set -e
trap '' HUP PIPE
printf '%s\n' {{sh .Version}} > {{sh .Marker}}
printf '%s\n' "$$" > {{sh .Running}}
rm -f {{sh (printf "%s.intent" .Running)}}
status=0
{{- if .Packages}}
rpm -Uvh{{range .Packages}} {{sh .}}{{end}} > {{sh .Output}} 2>&1 || status=$?
{{- else if .Yum}}
yum -y update{{range .Yum}} {{sh .}}{{end}} > {{sh .Output}} 2>&1 || status=$?
{{- else}}
OSRUN_VERSION={{sh .Version}} sh {{sh .Script}} > {{sh .Output}} 2>&1 || status=$?
{{- end}}
rm -f {{sh .Running}}
cat {{sh .Output}} || true
rm -f {{sh .Output}}
exit "$status"
