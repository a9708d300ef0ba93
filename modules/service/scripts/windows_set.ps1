# osrun:service/windows_set
# {{if eq .Action "startup"}}Sets the startup type of one Windows service.{{else}}Asks one Windows service to {{.Action}} and returns at once: osrun
# polls service/windows_status until the state is reached, with a timeout,
# instead of blocking here where it could not report progress.{{end}}
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Name = {{ps .Name}}
{{- if eq .Action "start"}}
(Get-Service -Name $Name).Start()
{{- else if eq .Action "stop"}}
# Without -Force this refuses to stop a service others depend on.
Stop-Service -Name $Name -NoWait
{{- else if eq .Action "startup"}}
Set-Service -Name $Name -StartupType {{ps .Startup}}
{{- end}}
