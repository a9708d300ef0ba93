# osrun:installer/dotnet_configure
# Runs the Configuration Tool from the install directory to upgrade this
# server's installation{{if .Controller}}, and (this host is the controller) the environment{{end}}.
{{- if .Password}}
# The new Platform Server admin password arrives on stdin, so it is never
# part of this script.
{{- end}}
# On success it forgets the pending marker and deletes the installer.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$InstallDir = {{ps .InstallDir}}
$Marker = {{ps .Marker}}
$Installer = {{ps .Installer}}
$arguments = @('/UpgradeInstall')
{{- if .Password}}
$password = [Console]::In.ReadLine()
if (-not $password) { throw 'no admin password on stdin' }
$arguments += @('/SetPlatformServerAdminPassword', $password)
{{- end}}
{{- if .Controller}}
$arguments += '/UpgradeEnvironment'
{{- end}}
Set-Location -LiteralPath $InstallDir
& .\ConfigurationTool.com @arguments
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
Remove-Item -LiteralPath $Marker, $Installer -Force -ErrorAction SilentlyContinue
'osrun-configured=ok'
