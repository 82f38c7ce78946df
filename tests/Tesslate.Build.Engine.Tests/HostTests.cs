using System.Text.Json.Nodes;
using Xunit;

namespace Tesslate.Build.Engine.Tests;

public sealed class HostTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("host").FullName;

    public HostTests() => Directory.CreateDirectory(Path.Combine(_root, ".nuke"));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private sealed class SampleBuild : BuildBase
    {
        [Parameter("Where to deploy.")] private readonly Stage Stage = Stage.Local;
        [Parameter("A token.")][Secret] private readonly string? Token;
        [Parameter("Must be set for Publish.")] private readonly string? Channel;
        [Parameter("Fail outside any target, after registering a cleanup.")] private readonly bool CrashOnStart;

        protected override string EnvironmentPrefix => "SAMPLE_";
        protected override IReadOnlyList<string> DefaultTargets => ["Compile"];

        public Target Compile => _ => _.Description("Compile everything.").Executes(() => Note($"compiled for {Stage}"));
        public Target Test => _ => _.Description("Run the tests.").DependsOn(Compile).Executes(() => Log.Information("token is {Token}", Token));
        public Target Publish => _ => _.DependsOn(Test).Requires(() => Channel).Executes(() => { });
        // After Compile, so that under --max-parallel it starts in the same pass as Test (both ready at once): a failure
        // stops new targets, and an Explode racing Compile could otherwise leave Test not started.
        public Target Explode => _ => _.DependsOn(Compile).Executes(() => throw new BuildFailure($"exploded holding {Token}", "stop holding it"));

        public bool CleanedUp { get; private set; }

        protected override void OnRunStarting()
        {
            Cleanup.Register("mark", () => Task.FromResult(CleanedUp = true));
            if (CrashOnStart)
                throw new InvalidOperationException("the adapter could not start");
        }
    }

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) => RunAsync(new SampleBuild(), [], args);

    private async Task<(int ExitCode, string Output)> RunAsync(SampleBuild build, Dictionary<string, string> environment, params string[] args)
    {
        var output = new StringWriter();
        var exitCode = await build.RunAsync([.. args, "--root", _root], environment, output);
        return (exitCode, output.ToString());
    }

    private string LogFile => Path.Combine(_root, ".nuke", "temp", "build.log");

    [Fact]
    public async Task Help_lists_targets_with_dependencies_and_the_default_and_parameters_with_their_sources()
    {
        var (exitCode, output) = await RunAsync("--help");
        Assert.Equal(0, exitCode);
        Assert.Contains("Compile (default)", output);
        Assert.Contains("-> Compile", output);
        Assert.Contains("Run the tests.", output);
        Assert.Contains("--stage <local|beta|early-access>", output);
        Assert.Contains("default: local; env: SAMPLE_STAGE", output);
        Assert.Contains("--max-parallel", output);
    }

    [Fact]
    public async Task Plan_shows_order_and_skips_with_reasons_without_running_anything()
    {
        var (exitCode, output) = await RunAsync("Test", "--plan", "--skip", "Compile");
        Assert.Equal(0, exitCode);
        Assert.Contains("Compile — --skip", output);
        Assert.False(File.Exists(Path.Combine(_root, ".nuke", "temp", "run-report.json")));
    }

    [Fact]
    public async Task Plan_puts_a_target_behind_a_skipped_middle_target_after_what_that_one_waited_for()
    {
        var (exitCode, output) = await RunAsync("Compile", "Publish", "--plan", "--skip", "Test", "--channel", "stable");
        Assert.Equal(0, exitCode);
        Assert.Contains("  1. Compile*\n  2. Publish*\n", output.ReplaceLineEndings("\n"));
    }

    [Theory]
    [InlineData("--no-parallel")]
    [InlineData("--max-parallel", "1")]
    public async Task Plan_one_at_a_time_shows_one_target_per_line_in_run_order(params string[] oneAtATime)
    {
        var (exitCode, output) = await RunAsync(["Compile", "Test", "Explode", "--plan", .. oneAtATime]);
        Assert.Equal(0, exitCode);
        Assert.Contains("  1. Compile*\n  2. Test*\n  3. Explode*\n", output.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("side by side", output);
    }

    [Fact]
    public async Task A_successful_run_exits_zero_and_writes_the_report()
    {
        var (exitCode, output) = await RunAsync("Test", "--stage", "beta");
        Assert.Equal(0, exitCode);
        Assert.Contains("Build succeeded", output);
        var report = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, ".nuke", "temp", "run-report.json")))!;
        Assert.Equal("succeeded", (string?)report["outcome"]);
        var targets = report["targets"]!.AsArray();
        Assert.Equal(["Compile", "Test"], targets.Select(t => (string?)t!["name"]));
        Assert.Equal("compiled for Beta", (string?)targets[0]!["details"]![0]);
    }

    [Fact]
    public async Task A_failing_target_exits_one_and_no_secret_reaches_the_output_or_the_report()
    {
        var (exitCode, output) = await RunAsync("Explode", "--token", "s3cr3t-token-value");
        Assert.Equal(1, exitCode);
        Assert.Contains("Build failed: Explode", output);
        var report = File.ReadAllText(Path.Combine(_root, ".nuke", "temp", "run-report.json"));
        Assert.DoesNotContain("s3cr3t-token-value", report);
        Assert.Contains("exploded holding [REDACTED]", report);
        Assert.DoesNotContain("s3cr3t-token-value", File.ReadAllText(Path.Combine(_root, ".nuke", "temp", "build.log")));
        Assert.DoesNotContain("s3cr3t-token-value", output);
    }

    [Theory]
    [InlineData(new[] { "Publsh" }, "Did you mean 'Publish'?")]
    [InlineData(new[] { "Publish" }, "Target 'Publish' requires --channel")]
    [InlineData(new[] { "--stage", "prod" }, "--stage does not accept 'prod'")]
    [InlineData(new[] { "--stag", "beta" }, "Did you mean '--stage'?")]
    public async Task Usage_errors_exit_two_before_anything_runs(string[] args, string expected)
    {
        var (exitCode, output) = await RunAsync(args);
        Assert.Equal(2, exitCode);
        Assert.Contains(expected, output);
        Assert.False(File.Exists(Path.Combine(_root, ".nuke", "temp", "run-report.json")));
    }

    [Fact]
    public async Task An_interrupted_run_exits_130()
    {
        using var interrupt = new CancellationTokenSource();
        await interrupt.CancelAsync();
        var exitCode = await new SampleBuild().RunAsync(["Test", "--root", _root], new Dictionary<string, string>(), new StringWriter(), interrupt.Token);
        Assert.Equal(130, exitCode);
    }

    [Fact]
    public void The_schema_lists_parameters_with_types_and_allowed_values_and_the_target_names()
    {
        var build = new SampleBuild();
        var schema = JsonNode.Parse(ParameterSchema.Generate(TargetGraph.Create(build), ParameterBinder.Discover(build, "SAMPLE_")))!;
        Assert.Equal(["local", "beta", "early-access"], schema["properties"]!["Stage"]!["enum"]!.AsArray().Select(v => (string?)v));
        Assert.Equal("local", (string?)schema["properties"]!["Stage"]!["default"]);
        Assert.Equal("integer", (string?)schema["properties"]!["MaxParallel"]!["type"]);
        Assert.Contains("Publish", schema["definitions"]!["Target"]!["enum"]!.AsArray().Select(v => (string?)v));
        Assert.Equal("#/definitions/Target", (string?)schema["properties"]!["Skip"]!["items"]!["$ref"]);
    }

    [Theory]
    [InlineData("Deplyo", "Deploy", 1)]
    [InlineData("kitten", "sitting", 3)]
    public void Distance_counts_edits_and_transpositions(string a, string b, int expected) =>
        Assert.Equal(expected, Suggestions.Distance(a.ToLowerInvariant(), b.ToLowerInvariant()));

    [Fact]
    public void The_registry_redacts_longest_secrets_first_and_ignores_trivially_short_values()
    {
        var registry = new SecretRegistry();
        registry.Register("abc");
        registry.Register("token");
        registry.Register("token-with-suffix");
        Assert.Equal("abc [REDACTED] [REDACTED]", registry.Redact("abc token-with-suffix token"));
    }

    [Fact]
    public async Task An_unexpected_exception_outside_the_targets_is_one_line_exit_one_and_cleanup_still_runs()
    {
        var build = new SampleBuild();
        var (exitCode, output) = await RunAsync(build, [], "Compile", "--crash-on-start");

        Assert.Equal(1, exitCode);
        Assert.Equal([$"error: InvalidOperationException: the adapter could not start (a bug in the build; the stack trace is in {LogFile})"], output.Trim().Split('\n'));
        Assert.True(build.CleanedUp);
        Assert.Contains("   at ", File.ReadAllText(LogFile));

        (_, output) = await RunAsync(new SampleBuild(), [], "Compile", "--crash-on-start", "--verbosity", "verbose");
        Assert.Contains("   at ", output);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("without-nuke")]
    public async Task A_root_that_is_missing_or_has_no_nuke_folder_is_a_usage_error_and_is_not_created(string name)
    {
        var root = Path.Combine(_root, name);
        if (name == "without-nuke")
            Directory.CreateDirectory(root);
        var output = new StringWriter();

        var exitCode = await new SampleBuild().RunAsync(["Compile", "--root", root], new Dictionary<string, string>(), output);

        Assert.Equal(2, exitCode);
        Assert.Contains($"--root {root} ", output.ToString());
        Assert.Equal(name == "without-nuke", Directory.Exists(root));
        Assert.False(Directory.Exists(Path.Combine(root, ".nuke")));
    }

    [Fact]
    public async Task A_usage_error_after_logging_started_is_written_to_the_log_instead_of_leaving_it_empty()
    {
        var (exitCode, _) = await RunAsync("Publish");
        Assert.Equal(2, exitCode);
        Assert.Contains("Target 'Publish' requires --channel", File.ReadAllText(LogFile));
    }

    [Theory]
    [InlineData("--no-parallel")]
    [InlineData("--max-parallel", "1")]
    [InlineData("--max-parallel", "4")]
    public async Task On_GitHub_Actions_each_target_is_one_group_and_a_failure_is_exactly_one_error_annotation(params string[] parallelism)
    {
        var github = new Dictionary<string, string> { ["GITHUB_ACTIONS"] = "true" };
        var (exitCode, output) = await RunAsync(new SampleBuild(), github, ["Test", "Explode", .. parallelism]);

        Assert.Equal(1, exitCode);
        var lines = output.ReplaceLineEndings("\n").Split('\n');
        Assert.Contains(lines, l => l.StartsWith("::group::Compile — Succeeded", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("::group::Test — Succeeded", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("::group::Explode — Failed", StringComparison.Ordinal));
        Assert.Equal(3, lines.Count(l => l == "::endgroup::"));
        Assert.Equal(["::error title=Explode::exploded holding %0AFix: stop holding it"], lines.Where(l => l.StartsWith("::error", StringComparison.Ordinal)).Select(l => l.Replace("\r", "", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("::warning", StringComparison.Ordinal));
    }

    [Fact]
    public async Task On_GitHub_Actions_a_usage_error_is_an_error_annotation()
    {
        var (exitCode, output) = await RunAsync(new SampleBuild(), new() { ["GITHUB_ACTIONS"] = "true" }, "Publsh");
        Assert.Equal(2, exitCode);
        Assert.Contains("::error::Target 'Publsh' does not exist. Did you mean 'Publish'?%0AAvailable targets:", output);
    }
}
