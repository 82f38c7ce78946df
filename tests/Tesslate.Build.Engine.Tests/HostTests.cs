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

        protected override string EnvironmentPrefix => "SAMPLE_";
        protected override IReadOnlyList<string> DefaultTargets => ["Compile"];

        public Target Compile => _ => _.Description("Compile everything.").Executes(() => Note($"compiled for {Stage}"));
        public Target Test => _ => _.Description("Run the tests.").DependsOn(Compile).Executes(() => Log.Information("token is {Token}", Token));
        public Target Publish => _ => _.DependsOn(Test).Requires(() => Channel).Executes(() => { });
        public Target Explode => _ => _.Executes(() => throw new BuildFailure($"exploded holding {Token}", "stop holding it"));
        public Target Hidden => _ => _.Unlisted().Executes(() => { });
    }

    private async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var exitCode = await new SampleBuild().RunAsync([.. args, "--root", _root], new Dictionary<string, string>(), output);
        return (exitCode, output.ToString());
    }

    [Fact]
    public async Task Help_lists_targets_with_dependencies_and_the_default_and_parameters_with_their_sources()
    {
        var (exitCode, output) = await RunAsync("--help");
        Assert.Equal(0, exitCode);
        Assert.Contains("Compile (default)", output);
        Assert.Contains("-> Compile", output);
        Assert.Contains("Run the tests.", output);
        Assert.DoesNotContain("Hidden", output);
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
}
