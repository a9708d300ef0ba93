# osrun:sha256
# Writes the lower-case SHA-256 of $path, or nothing if it is not a file.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$path = {{quote .Path}}
if (Test-Path -LiteralPath $path -PathType Leaf) {
    [Console]::Out.WriteLine((Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant())
}
