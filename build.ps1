# Bootstrap for the Tesslate.Build pipeline (PowerShell 7 and Windows PowerShell 5.1).
# Builds build/_build.csproj into .nuke/temp/bin only when its inputs changed, then runs it with every argument.
# Warm start (nothing changed) runs the built program directly: no MSBuild, no `dotnet build`, no SDK probe.
# build.sh does the same; both share .nuke/temp/build.stamp.
# No param() block on purpose: every argument, including `--` and `-Verbose`, reaches the program untouched.
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$Root = $PSScriptRoot
$TempDir = Join-Path $Root '.nuke/temp'
$BinDir = Join-Path $TempDir 'bin'
$Stamp = Join-Path $TempDir 'build.stamp'
$BuildProject = Join-Path $Root 'build/_build.csproj'
$BuiltDll = Join-Path $BinDir '_build.dll'
$StampFormat = '2'

$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'
$env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'

function Fail([string[]] $Lines) {
    foreach ($line in $Lines) { [Console]::Error.WriteLine("build.ps1: $line") }
    exit 1
}

function Get-HexSha256([byte[]] $Bytes) {
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try { return ([System.BitConverter]::ToString($sha.ComputeHash($Bytes)) -replace '-', '').ToLowerInvariant() }
    finally { $sha.Dispose() }
}

# One sha256 over the content and relative path of every build input, in byte-wise order: the same text that
# build.sh hashes (`sha256sum` lines "<hex>  <path>"), so the two scripts share the stamp.
function Get-InputsHash {
    $rootFiles = @('Directory.Build.props', 'Directory.Build.targets', 'Directory.Packages.props', 'global.json', '.editorconfig')
    $paths = New-Object System.Collections.Generic.List[string]
    foreach ($file in Get-ChildItem -LiteralPath $Root -File -Force) {
        if ($rootFiles -ccontains $file.Name -or $file.Name -ieq 'nuget.config') { $paths.Add($file.Name) }
    }
    $pending = New-Object System.Collections.Generic.Stack[System.IO.DirectoryInfo]
    $pending.Push((Get-Item -LiteralPath (Join-Path $Root 'build') -Force))
    while ($pending.Count -gt 0) {
        foreach ($item in $pending.Pop().GetFileSystemInfos()) {
            if ($item -is [System.IO.DirectoryInfo]) {
                if ($item.Name -cne 'bin' -and $item.Name -cne 'obj') { $pending.Push($item) }
            }
            elseif (($item.Attributes -band [System.IO.FileAttributes]::ReparsePoint) -eq 0) {
                $paths.Add($item.FullName.Substring($Root.Length + 1).Replace('\', '/'))
            }
        }
    }
    $sorted = [string[]] $paths.ToArray()
    [System.Array]::Sort($sorted, [System.StringComparer]::Ordinal)
    $text = New-Object System.Text.StringBuilder
    foreach ($path in $sorted) {
        $bytes = [System.IO.File]::ReadAllBytes((Join-Path $Root $path))
        [void] $text.Append((Get-HexSha256 $bytes)).Append('  ').Append($path).Append("`n")
    }
    return Get-HexSha256 ([System.Text.Encoding]::UTF8.GetBytes($text.ToString()))
}

function Get-StampValue([string] $Key) {
    if (-not (Test-Path -LiteralPath $Stamp)) { return '' }
    foreach ($line in [System.IO.File]::ReadAllLines($Stamp)) {
        if ($line.StartsWith("$Key=")) { return $line.Substring($Key.Length + 1) }
    }
    return ''
}

# Major.minor as one number, feature band, patch: 10.0.401 -> 10000, 4, 1.
function Split-SdkVersion([string] $Version) {
    $parts = ($Version -split '-')[0] -split '\.'
    $majorMinor = [int] $parts[0] * 1000 + [int] $parts[1]
    $band = [int] $parts[2].Substring(0, 1)
    $patch = [int] $parts[2].Substring(1)
    return @($majorMinor, $band, $patch)
}

# Whether an installed SDK version satisfies global.json's sdk.version under its rollForward policy.
function Test-SdkVersion([string] $Have, [string] $Want, [string] $Policy, [bool] $Prerelease) {
    if ($Have.Contains('-') -and -not $Prerelease) { return $false }
    $h = Split-SdkVersion $Have
    $w = Split-SdkVersion $Want
    $hv = $h[0] * 100000 + $h[1] * 1000 + $h[2]
    $wv = $w[0] * 100000 + $w[1] * 1000 + $w[2]
    switch -CaseSensitive ($Policy) {
        'disable' { return $hv -eq $wv }
        { $_ -ceq 'patch' -or $_ -ceq 'latestPatch' } { return $h[0] -eq $w[0] -and $h[1] -eq $w[1] -and $hv -ge $wv }
        { $_ -ceq 'feature' -or $_ -ceq 'latestFeature' } { return $h[0] -eq $w[0] -and $hv -ge $wv }
        { $_ -ceq 'minor' -or $_ -ceq 'latestMinor' } { return [Math]::Floor($h[0] / 1000) -eq [Math]::Floor($w[0] / 1000) -and $hv -ge $wv }
        { $_ -ceq 'major' -or $_ -ceq 'latestMajor' } { return $hv -ge $wv }
    }
    return $false
}

# Returns the version and root folder of a suitable SDK, or explains how to get one and exits 1.
function Find-Sdk([string] $Dotnet) {
    $globalJson = Get-Content -LiteralPath (Join-Path $Root 'global.json') -Raw | ConvertFrom-Json
    $sdk = $globalJson.sdk
    $want = [string] $sdk.version
    if (-not $want) { Fail @('global.json has no sdk.version.') }
    $policy = if ($sdk.PSObject.Properties['rollForward']) { [string] $sdk.rollForward } else { 'latestPatch' }
    $prerelease = $sdk.PSObject.Properties['allowPrerelease'] -and [bool] $sdk.allowPrerelease
    $majorMinor = $want.Substring(0, $want.LastIndexOf('.'))
    $major = $want.Substring(0, $want.IndexOf('.'))
    switch -CaseSensitive ($policy) {
        'disable' { $need = "exactly $want" }
        { $_ -ceq 'patch' -or $_ -ceq 'latestPatch' } { $need = "$($want.Substring(0, $want.Length - 2))xx (patch >= $($want.Substring($want.LastIndexOf('.') + 1)))" }
        { $_ -ceq 'feature' -or $_ -ceq 'latestFeature' } { $need = "$majorMinor.x >= $want" }
        { $_ -ceq 'minor' -or $_ -ceq 'latestMinor' } { $need = "$major.x >= $want" }
        default { $need = ">= $want" }
    }
    $how = @(
        "Install a .NET SDK $need (https://dotnet.microsoft.com/download/dotnet/$majorMinor;",
        "  or: apt-get install dotnet-sdk-$majorMinor / brew install --cask dotnet-sdk / winget install Microsoft.DotNet.SDK.$major),",
        '  then put its folder on PATH (or set DOTNET_ROOT and add $DOTNET_ROOT to PATH) and run this script again.')
    if (-not $Dotnet) { Fail (@("no 'dotnet' on PATH; global.json asks for SDK $want (rollForward $policy).") + $how) }
    $ErrorActionPreference = 'Continue'
    $lines = @(& $Dotnet --list-sdks 2>$null)
    $found = $null
    foreach ($line in $lines) {
        if ($line -match '^(\S+) \[(.*)\]$' -and (Test-SdkVersion $Matches[1] $want $policy $prerelease)) {
            $found = @($Matches[1], (Split-Path -Parent $Matches[2]))
        }
    }
    if (-not $found) {
        $listed = if ($lines.Count -gt 0) { $lines -join '; ' } else { 'nothing' }
        Fail (@("no installed .NET SDK satisfies global.json: it asks for $need (sdk.version $want, rollForward $policy).",
                "'$Dotnet --list-sdks' found: $listed") + $how)
    }
    return $found
}

# Builds the program quietly; on failure shows the compiler errors and exits 1.
function Invoke-Build([string] $Dotnet, [string] $SdkVersion) {
    # Windows PowerShell turns a native program's stderr into errors; the exit code is what counts here.
    $ErrorActionPreference = 'Continue'
    [void] (New-Item -ItemType Directory -Force -Path $TempDir)
    if (Test-Path -LiteralPath $Stamp) { Remove-Item -LiteralPath $Stamp -Force }
    $log = Join-Path $TempDir 'build.log'
    [Console]::Error.WriteLine("build.ps1: building build/_build.csproj (inputs changed) with .NET SDK $SdkVersion...")
    # Own artifacts folder so this build never races a solution build over build/obj. Published ReadyToRun for this
    # machine's runtime (framework-dependent): precompiled code starts about twice as fast (docs/bootstrap.md).
    & $Dotnet publish $BuildProject -c Release -nologo -v:quiet -clp:NoSummary -tl:off -nodeReuse:false `
        --use-current-runtime --self-contained false -p:PublishReadyToRun=true `
        -p:UseArtifactsOutput=true "-p:ArtifactsPath=$TempDir/artifacts" -o $BinDir *> $log
    if ($LASTEXITCODE -ne 0) {
        $errors = @(Get-Content -LiteralPath $log | Where-Object { $_ -cmatch '(error|warning) [A-Z]+[0-9]+' } |
            ForEach-Object { $_ -replace ' \[[^\]]*\]$', '' } | Sort-Object -Unique -CaseSensitive)
        if ($errors.Count -eq 0) { $errors = @(Get-Content -LiteralPath $log) }
        foreach ($line in $errors) { [Console]::Error.WriteLine($line) }
        Fail @("building build/_build.csproj failed (full log: $log).")
    }
}

# Starts the program with the arguments exactly as given, console inherited, and returns its exit code. Not `&`:
# on Unix PowerShell expands wildcards such as `*` in arguments to native programs, and before 7.3 it mangles
# embedded quotes. Windows PowerShell's .NET has no ArgumentList: there the command line is built by the Windows
# quoting rules (TESSLATE_BOOTSTRAP_QUOTED_ARGUMENTS=1 forces that path, so it is tested on PowerShell 7 too).
function Invoke-Program([string] $Exe, [string[]] $Arguments) {
    $start = New-Object System.Diagnostics.ProcessStartInfo
    $start.FileName = $Exe
    $start.UseShellExecute = $false
    if ($start.PSObject.Properties['ArgumentList'] -and $env:TESSLATE_BOOTSTRAP_QUOTED_ARGUMENTS -ne '1') {
        foreach ($argument in $Arguments) { $start.ArgumentList.Add($argument) }
    }
    else {
        $quoted = foreach ($argument in $Arguments) {
            if ($argument -and $argument -notmatch '[\s"]') { $argument }
            else { '"' + ($argument -replace '(\\*)"', '$1$1\"' -replace '(\\+)$', '$1$1') + '"' }
        }
        $start.Arguments = $quoted -join ' '
    }
    $process = [System.Diagnostics.Process]::Start($start)
    $process.WaitForExit()
    return $process.ExitCode
}

$dotnetCommand = Get-Command dotnet -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
$dotnet = if ($dotnetCommand) { $dotnetCommand.Source } else { '' }
$hash = Get-InputsHash

# Warm: same inputs, same dotnet as the stamp records, program present. Anything else checks the SDK again.
if (-not (Test-Path -LiteralPath $BuiltDll) -or (Get-StampValue 'format') -ne $StampFormat -or
    (Get-StampValue 'inputs') -ne $hash -or (Get-StampValue 'dotnet') -ne $dotnet) {
    $sdk = Find-Sdk $dotnet
    if ((Get-StampValue 'inputs') -ne $hash -or -not (Test-Path -LiteralPath $BuiltDll) -or (Get-StampValue 'format') -ne $StampFormat) {
        Invoke-Build $dotnet $sdk[0]
    }
    $stampText = "format=$StampFormat`ninputs=$hash`ndotnet=$dotnet`ndotnet_root=$($sdk[1])`nsdk=$($sdk[0])`n"
    [System.IO.File]::WriteAllText("$Stamp.tmp", $stampText)
    Move-Item -LiteralPath "$Stamp.tmp" -Destination $Stamp -Force
}

# `dotnet _build.dll` starts as fast as the apphost (measured: docs/bootstrap.md) and needs no DOTNET_ROOT.
exit (Invoke-Program $dotnet (@($BuiltDll) + @($args)))
