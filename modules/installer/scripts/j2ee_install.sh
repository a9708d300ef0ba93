# osrun:installer/j2ee_install
# Records that the configuration of this version is pending (so a run that
# fails after the upgrade resumes with the Configuration Tool), then
# {{if .Packages}}upgrades the platform packages{{else if .Yum}}updates the platform packages from the configured repositories{{else}}runs the given installer script{{end}}.
set -e
printf '%s\n' {{sh .Version}} > {{sh .Marker}}
{{- if .Packages}}
rpm -Uvh{{range .Packages}} {{sh .}}{{end}}
{{- else if .Yum}}
yum -y update{{range .Yum}} {{sh .}}{{end}}
{{- else}}
OSRUN_VERSION={{sh .Version}} sh {{sh .Script}}
{{- end}}
