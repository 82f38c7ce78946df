using Xunit;

namespace Tesslate.Build.Tests.Bootstrap;

/// <summary>Builds once with build.sh; the tests then run both scripts warm against it.</summary>
public sealed class WarmSandbox : IAsyncLifetime
{
    internal BootstrapSandbox Sandbox { get; } = new();

    public async ValueTask InitializeAsync()
    {
        var run = await Sandbox.RunShAsync(TestContext.Current.CancellationToken, "warm-up");
        if (run.ExitCode != 0 || !run.InvokedMsBuild)
            throw new InvalidOperationException($"the first build.sh run should build and succeed:\n{run}");
    }

    public ValueTask DisposeAsync()
    {
        Sandbox.Dispose();
        return ValueTask.CompletedTask;
    }
}

public sealed class BootstrapWarmStartTests(WarmSandbox warm) : IClassFixture<WarmSandbox>
{
    // Spaces, both quote kinds, empty, backslashes before quotes and at the end, what PowerShell would take for its
    // own syntax (--, -Verbose), what a shell would expand, and non-ASCII.
    private static readonly string[] AwkwardArguments =
    [
        "Deploy", "with space", "double\"quote", "single'quote", "", "back\\slash\\", "back\\\"quote", "a\\\\\"b",
        "--", "-Verbose", "--flag=value", "$HOME", "*", "ünïcødé", "a;b&c|d", "  lead and trail  ",
    ];

    [Theory]
    [InlineData("build.sh")]
    [InlineData("build.ps1")]
    public async Task Warm_start_runs_the_program_with_every_argument_untouched_and_starts_no_build(string script)
    {
        var run = await warm.Sandbox.RunAsync(script, AwkwardArguments, TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(AwkwardArguments.Select(a => $"<{a}>"), run.Output);
        Assert.False(run.InvokedMsBuild, run.ToString());
        // The stamp is shared: build.ps1 trusts what build.sh built, and neither probes the SDK again.
        Assert.False(run.ProbedSdks, run.ToString());
    }

    [Fact]
    public async Task Windows_PowerShell_quoting_path_of_build_ps1_passes_arguments_untouched()
    {
        var run = await warm.Sandbox.RunAsync("build.ps1", AwkwardArguments, TestContext.Current.CancellationToken,
            new Dictionary<string, string?> { ["TESSLATE_BOOTSTRAP_QUOTED_ARGUMENTS"] = "1" });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(AwkwardArguments.Select(a => $"<{a}>"), run.Output);
    }

    [Theory]
    [InlineData("build.sh", 0)]
    [InlineData("build.sh", 3)]
    [InlineData("build.sh", 130)]
    [InlineData("build.ps1", 0)]
    [InlineData("build.ps1", 3)]
    [InlineData("build.ps1", 130)]
    public async Task The_programs_exit_code_is_the_scripts_exit_code(string script, int exitCode)
    {
        var run = await warm.Sandbox.RunAsync(script, ["Deploy"], TestContext.Current.CancellationToken,
            new Dictionary<string, string?> { [BootstrapSandbox.ExitCodeVariable] = exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        Assert.True(run.ExitCode == exitCode, run.ToString());
        Assert.Equal(["<Deploy>"], run.Output);
    }
}

public sealed class BootstrapRebuildTests
{
    [Theory]
    [InlineData("build.sh")]
    [InlineData("build.ps1")]
    public async Task First_run_builds_then_only_a_content_change_rebuilds(string script)
    {
        var ct = TestContext.Current.CancellationToken;
        using var sandbox = new BootstrapSandbox();

        var first = await sandbox.RunAsync(script, ["first"], ct);
        Assert.True(first.ExitCode == 0 && first.InvokedMsBuild && first.ProbedSdks, first.ToString());
        Assert.Equal(["<first>"], first.Output);
        Assert.True(File.Exists(sandbox.Stamp));

        var warm = await sandbox.RunAsync(script, ["second"], ct);
        Assert.True(warm.ExitCode == 0 && !warm.InvokedMsBuild && !warm.ProbedSdks, warm.ToString());
        Assert.Equal(["<second>"], warm.Output);

        // A new timestamp with the same content (a branch switched there and back) is not a change.
        File.SetLastWriteTimeUtc(sandbox.ProgramSource, DateTime.UtcNow.AddMinutes(5));
        var touched = await sandbox.RunAsync(script, ["touched"], ct);
        Assert.True(touched.ExitCode == 0 && !touched.InvokedMsBuild, touched.ToString());

        File.AppendAllText(sandbox.ProgramSource, "// edited\n");
        var edited = await sandbox.RunAsync(script, ["edited"], ct);
        Assert.True(edited.ExitCode == 0 && edited.InvokedMsBuild, edited.ToString());
        Assert.Equal(["<edited>"], edited.Output);

        var warmAgain = await sandbox.RunAsync(script, ["again"], ct);
        Assert.True(warmAgain.ExitCode == 0 && !warmAgain.InvokedMsBuild, warmAgain.ToString());
    }

    [Theory]
    [InlineData("build.sh")]
    [InlineData("build.ps1")]
    public async Task A_compile_error_fails_showing_the_compiler_error_and_runs_nothing(string script)
    {
        using var sandbox = new BootstrapSandbox();
        sandbox.ReplaceProgram("internal static class Program { public static int Main() => \"not a number\"; }\n");

        var run = await sandbox.RunAsync(script, ["Deploy"], TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("Program.cs(1,", run.Errors, StringComparison.Ordinal);
        Assert.Contains("error CS0029", run.Errors, StringComparison.Ordinal);
        Assert.Contains("building build/_build.csproj failed", run.Errors, StringComparison.Ordinal);
        Assert.Empty(run.Output);
        Assert.False(File.Exists(sandbox.Stamp));
    }
}

public sealed class BootstrapSdkCheckTests
{
    [Theory]
    [InlineData("build.sh")]
    [InlineData("build.ps1")]
    public async Task An_sdk_older_than_global_json_fails_naming_both_versions_and_how_to_install(string script)
    {
        using var sandbox = new BootstrapSandbox(fakeSdkList: "9.0.100 [/usr/share/dotnet/sdk]");

        var run = await sandbox.RunAsync(script, ["Deploy"], TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("no installed .NET SDK satisfies global.json", run.Errors, StringComparison.Ordinal);
        Assert.Contains("10.0.100", run.Errors, StringComparison.Ordinal);
        Assert.Contains("9.0.100", run.Errors, StringComparison.Ordinal);
        Assert.Contains("Install a .NET SDK 10.0.x >= 10.0.100", run.Errors, StringComparison.Ordinal);
        Assert.False(run.InvokedMsBuild, run.ToString());
        Assert.Empty(run.Output);
    }

    [Theory]
    [InlineData("build.sh")]
    [InlineData("build.ps1")]
    public async Task No_dotnet_on_path_fails_with_how_to_install(string script)
    {
        using var sandbox = new BootstrapSandbox();
        var tools = Directory.CreateTempSubdirectory("tesslate-bootstrap-tools-").FullName;
        try
        {
            // Only the plain tools build.sh uses, so that no dotnet is reachable.
            foreach (var tool in new[] { "bash", "sh", "env", "dirname", "find", "sort", "tr", "xargs", "sha256sum", "sed", "cut", "head", "cat", "grep", "mkdir", "rm", "mv" })
            {
                if (Engine.Processes.ToolLocator.Find(tool) is { } found)
                    File.CreateSymbolicLink(Path.Combine(tools, tool), found);
            }

            var run = await sandbox.RunAsync(script, ["Deploy"], TestContext.Current.CancellationToken, path: tools);

            Assert.True(run.ExitCode == 1, run.ToString());
            Assert.Contains("no 'dotnet' on PATH", run.Errors, StringComparison.Ordinal);
            Assert.Contains("Install a .NET SDK 10.0.x >= 10.0.100", run.Errors, StringComparison.Ordinal);
            Assert.Empty(run.DotnetCalls);
        }
        finally
        {
            Directory.Delete(tools, recursive: true);
        }
    }

    // Each row: global.json's sdk block, what `dotnet --list-sdks` reports, and whether that satisfies it. build.ps1
    // gets the cases where a policy boundary lies (pwsh starts slowly; the two scripts' rules are the same table).
    public static TheoryData<string, string, string, bool> RollForwardCases() => new()
    {
        { "build.sh", """ "version": "10.0.100", "rollForward": "latestFeature" """, "10.0.401", true },
        { "build.sh", """ "version": "10.0.100", "rollForward": "latestFeature" """, "11.0.100", false },
        { "build.sh", """ "version": "10.0.100", "rollForward": "latestFeature" """, "10.0.200-rc.1.25451.107", false },
        { "build.sh", """ "version": "10.0.100", "rollForward": "latestFeature", "allowPrerelease": true """, "10.0.200-rc.1.25451.107", true },
        { "build.sh", """ "version": "10.0.102" """, "10.0.101", false },
        { "build.sh", """ "version": "10.0.102" """, "10.0.105", true },
        { "build.sh", """ "version": "10.0.102" """, "10.0.200", false },
        { "build.sh", """ "version": "10.0.100", "rollForward": "disable" """, "10.0.101", false },
        { "build.sh", """ "version": "10.0.100", "rollForward": "latestMinor" """, "10.1.100", true },
        { "build.sh", """ "version": "10.0.100", "rollForward": "latestMinor" """, "11.0.100", false },
        { "build.sh", """ "version": "10.0.100", "rollForward": "latestMajor" """, "11.0.100", true },
        { "build.ps1", """ "version": "10.0.100", "rollForward": "latestFeature" """, "10.0.401", true },
        { "build.ps1", """ "version": "10.0.100", "rollForward": "latestFeature" """, "11.0.100", false },
        { "build.ps1", """ "version": "10.0.100", "rollForward": "latestFeature" """, "10.0.200-rc.1.25451.107", false },
        { "build.ps1", """ "version": "10.0.100", "rollForward": "latestFeature", "allowPrerelease": true """, "10.0.200-rc.1.25451.107", true },
        { "build.ps1", """ "version": "10.0.102" """, "10.0.200", false },
        { "build.ps1", """ "version": "10.0.100", "rollForward": "disable" """, "10.0.101", false },
    };

    [Theory]
    [MemberData(nameof(RollForwardCases))]
    public async Task The_sdk_check_follows_global_json_roll_forward(string script, string sdkBlock, string installed, bool satisfies)
    {
        using var sandbox = new BootstrapSandbox(fakeSdkList: $"9.0.300 [/opt/dotnet/sdk]\n{installed} [/opt/dotnet/sdk]");
        File.WriteAllText(Path.Combine(sandbox.Root, "global.json"), $$"""{ "sdk": { {{sdkBlock}} } }""" + "\n");
        // Past the check the build starts and fails at once: no project, so no compiling for this test.
        File.Delete(Path.Combine(sandbox.Root, "build", "_build.csproj"));

        var run = await sandbox.RunAsync(script, ["Deploy"], TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(satisfies, run.InvokedMsBuild);
        Assert.Equal(!satisfies, run.Errors.Contains("no installed .NET SDK satisfies global.json", StringComparison.Ordinal));
    }
}
