# osrun:upload
# Streams stdin into $path: base64 lines, then a "sha256:<hex>" line with
# the expected digest. The data goes to a temporary file next to $path that
# replaces it only if the digests match; on any failure it is removed.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$path = {{quote .Path}}
if (-not [IO.Path]::IsPathRooted($path)) { throw "osrun upload: destination must be an absolute path: $path" }
$dir = [IO.Path]::GetDirectoryName($path)
if ($dir -and -not (Test-Path -LiteralPath $dir -PathType Container)) {
    $null = New-Item -ItemType Directory -Path $dir -Force
}
$tmp = Join-Path $dir ('.' + [IO.Path]::GetFileName($path) + '.osrun-' + [Guid]::NewGuid().ToString('N') + '.tmp')
$sha = [Security.Cryptography.SHA256]::Create()
$want = ''
$out = [IO.File]::Create($tmp)
try {
    try {
        foreach ($line in $input) {
            if ($line.StartsWith('sha256:')) { $want = $line.Substring(7).Trim(); continue }
            if ($line.Length -eq 0) { continue }
            $bytes = [Convert]::FromBase64String($line)
            $null = $sha.TransformBlock($bytes, 0, $bytes.Length, $null, 0)
            $out.Write($bytes, 0, $bytes.Length)
        }
    } finally {
        $out.Dispose()
    }
    $null = $sha.TransformFinalBlock([byte[]]::new(0), 0, 0)
    $got = [BitConverter]::ToString($sha.Hash).Replace('-', '').ToLowerInvariant()
    if ($want -ne $got) {
        throw "osrun upload: sha256 mismatch for ${path}: got $got, want '$want'"
    }
    Move-Item -LiteralPath $tmp -Destination $path -Force
} finally {
    if (Test-Path -LiteralPath $tmp) { Remove-Item -LiteralPath $tmp -Force }
}
[Console]::Out.WriteLine($got)
