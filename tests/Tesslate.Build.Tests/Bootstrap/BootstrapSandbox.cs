using System.Diagnostics;
using System.Text;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Bootstrap;

/// <summary>What one run of a bootstrap script did: its exit code, output, and every `dotnet` call it made.</summary>
internal sealed record BootstrapRun(int ExitCode, IReadOnlyList<string> Output, string Errors, IReadOnlyList<string> DotnetCalls)
{
    /// <summary>A call that starts MSBuild: `dotnet build`, `restore`, `msbuild`, `run`, `publish`.</summary>
    public bool InvokedMsBuild => DotnetCalls.Any(call =>
        call.Split(' ')[0] is "build" or "restore" or "msbuild" or "run" or "publish" || call.Contains("MSBuild.dll", StringComparison.OrdinalIgnoreCase));

    public bool ProbedSdks => DotnetCalls.Any(call => call.StartsWith("--list-sdks", StringComparison.Ordinal));

    public override string ToString() =>
        $"exit {ExitCode}\n--- stdout\n{string.Join('\n', Output)}\n--- stderr\n{Errors}\n--- dotnet calls\n{string.Join('\n', DotnetCalls)}";
}

/// <summary>
/// A temp copy of what the bootstrap needs (scripts, global.json, Directory.*.props, build/ with the real engine) whose
/// pipeline program is replaced by one that prints each argument as &lt;arg&gt; and exits with
/// $BOOTSTRAP_TEST_EXIT_CODE, so the tests do not depend on what the real pipeline does. A `dotnet` shim first on PATH
/// logs every call, then runs the real dotnet (or, with <see cref="FakeSdkList"/>, answers --list-sdks itself).
/// </summary>
internal sealed class BootstrapSandbox : IDisposable
{
    public const string ExitCodeVariable = "BOOTSTRAP_TEST_EXIT_CODE";

    private const string EchoProgram = """
        internal static class Program
        {
            public static int Main(string[] args)
            {
                foreach (var argument in args)
                {
                    System.Console.WriteLine("<" + argument + ">");
                }

                var code = System.Environment.GetEnvironmentVariable("BOOTSTRAP_TEST_EXIT_CODE");
                return string.IsNullOrEmpty(code) ? 0 : int.Parse(code, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        """;

    private static readonly TimeSpan RunDeadline = TimeSpan.FromMinutes(10);

    private readonly string _directory;
    private readonly string _shimDirectory;
    private readonly string _callLog;

    public BootstrapSandbox(string? fakeSdkList = null)
    {
        _directory = Directory.CreateTempSubdirectory("tesslate-bootstrap-").FullName;
        Root = Path.Combine(_directory, "repo");
        _shimDirectory = Path.Combine(_directory, "shim");
        _callLog = Path.Combine(_directory, "dotnet-calls.log");
        FakeSdkList = fakeSdkList;
        CopyRepository(RepositoryPaths.Root, Root);
        Directory.CreateDirectory(_shimDirectory);
        WriteShim();
    }

    /// <summary>The repository copy; runs start from another folder so the scripts must find it themselves.</summary>
    public string Root { get; }

    /// <summary>When set, the shim prints this for `dotnet --list-sdks` instead of the real list.</summary>
    public string? FakeSdkList { get; }

    public string ProgramSource => Path.Combine(Root, "build", "Program.cs");

    public string Stamp => Path.Combine(Root, ".nuke", "temp", "build.stamp");

    public static string RealDotnet { get; } = ToolLocator.Find("dotnet")
        ?? throw new InvalidOperationException("dotnet is not on PATH");

    /// <summary>pwsh from PATH or where tests/run installs it (.nuke/temp/tools), else null.</summary>
    public static string? Pwsh { get; } = ToolLocator.Find("pwsh")
        ?? new[] { Path.Combine(RepositoryPaths.Root, ".nuke", "temp", "tools", "pwsh") }.FirstOrDefault(File.Exists);

    /// <summary>PowerShell tests run wherever pwsh exists, and must run in CI (tests/run installs it).</summary>
    public static string RequirePwsh()
    {
        if (Pwsh is not null)
            return Pwsh;
        if (Environment.GetEnvironmentVariable("CI") is "true" or "1")
            Assert.Fail("pwsh is not installed, but CI must test build.ps1: run the tests through tests/run, which installs it.");
        Assert.Skip("pwsh is not installed (tests/run installs it into .nuke/temp/tools): build.ps1 is not tested.");
        return null!;
    }

    public Task<BootstrapRun> RunShAsync(CancellationToken ct, params string[] arguments) =>
        RunAsync("build.sh", arguments, ct);

    public Task<BootstrapRun> RunPs1Async(CancellationToken ct, params string[] arguments) =>
        RunAsync("build.ps1", arguments, ct);

    public Task<BootstrapRun> RunAsync(string script, IReadOnlyList<string> arguments, CancellationToken ct,
        IReadOnlyDictionary<string, string?>? environment = null, string? path = null)
    {
        var start = script switch
        {
            "build.sh" => new ProcessStartInfo(Path.Combine(Root, "build.sh")),
            "build.ps1" => PwshStart(RequirePwsh()),
            _ => throw new ArgumentOutOfRangeException(nameof(script), script, "build.sh or build.ps1"),
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["PATH"] = path ?? _shimDirectory + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        start.Environment["BOOTSTRAP_SHIM_LOG"] = _callLog;
        start.Environment.Remove(ExitCodeVariable);
        start.Environment.Remove("BOOTSTRAP_FAKE_SDKS");
        if (FakeSdkList is not null)
            start.Environment["BOOTSTRAP_FAKE_SDKS"] = FakeSdkList;
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }
        start.WorkingDirectory = _directory;
        return RunProcessAsync(start, ct);
    }

    // pwsh installed as a .NET tool is a launcher that runs `dotnet pwsh.dll` with the dotnet on PATH; start pwsh.dll
    // with the real dotnet instead, so that the PATH under test (shimmed, or without dotnet) is build.ps1's alone.
    private ProcessStartInfo PwshStart(string pwsh)
    {
        var store = Path.Combine(Path.GetDirectoryName(pwsh)!, ".store", "powershell");
        var dll = Directory.Exists(store)
            ? Directory.EnumerateFiles(store, "pwsh.dll", SearchOption.AllDirectories).FirstOrDefault(f => f.Contains($"{Path.DirectorySeparatorChar}unix{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            : null;
        var start = dll is null ? new ProcessStartInfo(pwsh) : new ProcessStartInfo(RealDotnet) { ArgumentList = { dll } };
        foreach (var argument in new[] { "-NoProfile", "-NonInteractive", "-File", Path.Combine(Root, "build.ps1") })
            start.ArgumentList.Add(argument);
        return start;
    }

    public void ReplaceProgram(string source) => File.WriteAllText(ProgramSource, source);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; failing the run over it is not.
        }
    }

    private async Task<BootstrapRun> RunProcessAsync(ProcessStartInfo start, CancellationToken ct)
    {
        File.WriteAllText(_callLog, string.Empty);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.StandardOutputEncoding = Encoding.UTF8;
        start.StandardErrorEncoding = Encoding.UTF8;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        process.StandardInput.Close();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(RunDeadline);
        var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var errors = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var calls = File.ReadAllLines(_callLog);
        return new BootstrapRun(process.ExitCode, lines, await errors, calls);
    }

    private void WriteShim()
    {
        ExecutableScript.Write(Path.Combine(_shimDirectory, "dotnet"), $$"""
            #!/bin/sh
            printf '%s\n' "$*" >> "$BOOTSTRAP_SHIM_LOG"
            if [ "$1" = "--list-sdks" ] && [ -n "$BOOTSTRAP_FAKE_SDKS" ]; then
              printf '%s\n' "$BOOTSTRAP_FAKE_SDKS"
              exit 0
            fi
            exec '{{RealDotnet}}' "$@"

            """);
    }

    private static void CopyRepository(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var name in new[] { "build.sh", "build.ps1", "global.json", "Directory.Build.props", "Directory.Build.targets",
                     "Directory.Packages.props", ".editorconfig", "nuget.config", "NuGet.config" })
        {
            if (File.Exists(Path.Combine(from, name)))
                File.Copy(Path.Combine(from, name), Path.Combine(to, name));
        }
        ExecutableScript.MakeExecutable(Path.Combine(to, "build.sh"));
        DirectoryCopy.Copy(Path.Combine(from, "build"), Path.Combine(to, "build"), path => path.Any(f => f is "bin" or "obj"));
        // Only the engine keeps its sources: the pipeline's own code is replaced by the echo program.
        var engine = Path.Combine(to, "build", "Engine") + Path.DirectorySeparatorChar;
        foreach (var source in Directory.EnumerateFiles(Path.Combine(to, "build"), "*.cs", SearchOption.AllDirectories))
        {
            if (!source.StartsWith(engine, StringComparison.Ordinal))
                File.Delete(source);
        }
        File.WriteAllText(Path.Combine(to, "build", "Program.cs"), EchoProgram);
    }
}
