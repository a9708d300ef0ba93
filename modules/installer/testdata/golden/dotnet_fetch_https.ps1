# osrun:installer/dotnet_fetch
# Copies the installer from where the host can read it to a temporary name;
# only a copy whose SHA-256 matches is renamed into place, so a partial or
# wrong file never looks like the installer. A matching file already in
# place is kept.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$From = 'https://files.example.com/PlatformServer-11.31.0.exe'
$To = 'C:\ProgramData\osrun\installer\PlatformServer-11.31.0.exe'
$Sha256 = '9F2C0E1D9F2C0E1D9F2C0E1D9F2C0E1D9F2C0E1D9F2C0E1D9F2C0E1D9F2C0E1D'
if ((Test-Path -LiteralPath $To) -and (Get-FileHash -LiteralPath $To -Algorithm SHA256).Hash -eq $Sha256) {
  'osrun-fetched=present'
  exit 0
}
$partial = $To + '.partial'
try {
  [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
  Invoke-WebRequest -UseBasicParsing -Uri $From -OutFile $partial
  $got = (Get-FileHash -LiteralPath $partial -Algorithm SHA256).Hash
  if ($got -ne $Sha256) { throw "SHA-256 of $From is $got, expected $Sha256" }
  Move-Item -LiteralPath $partial -Destination $To -Force
} finally {
  Remove-Item -LiteralPath $partial -Force -ErrorAction SilentlyContinue
}
'osrun-fetched=copied'
