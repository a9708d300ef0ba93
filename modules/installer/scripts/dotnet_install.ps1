# osrun:installer/dotnet_install
# Records that the configuration of this version is pending (so a run that
# fails after the installer resumes with the Configuration Tool), then runs
# the installer silently, recording its process id while it runs (so a run
# that lost its connection waits for it rather than starting another). Its exit code (0 ok; 1, 3010, 3011 reboot needed;
# anything else failure) is reported on a line of its own, so it cannot be
# confused with this script failing.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$Installer = {{ps .Installer}}
$Marker = {{ps .Marker}}
$Running = {{ps .Running}}
Set-Content -LiteralPath $Marker -Value {{ps .Version}}
"running $Installer /S"
$p = Start-Process -FilePath $Installer -ArgumentList '/S' -PassThru
$null = $p.Handle # keeps the exit code readable after the process ends
Set-Content -LiteralPath $Running -Value $p.Id
$p.WaitForExit()
Remove-Item -LiteralPath $Running -ErrorAction SilentlyContinue
'osrun-installer-exit=' + $p.ExitCode
