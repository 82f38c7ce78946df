using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Xunit;

namespace Tesslate.Build.Tests.Images;

/// <summary>The BuildImages target through the real pipeline, in-process, where the engine or the registry is not there.</summary>
public sealed class BuildImagesTargetTests(DockerEngineFixture engine) : IDisposable
{
    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly string _root = RepositoryCopy.Create();
    private readonly string _nowhere = Directory.CreateTempSubdirectory("tesslate-no-engine-").FullName;

    /// <summary>The docker CLI, talking to a unix socket nothing listens on.</summary>
    private Dictionary<string, string> NoEngine() => new()
    {
        ["DOCKER_EXE"] = engine.DockerExecutable,
        ["DOCKER_HOST"] = $"unix://{Path.Combine(_nowhere, "dead.sock")}",
    };

    [Theory]
    [InlineData("BuildImages", null)]
    [InlineData("BuildImages", "--dry-run")]
    [InlineData("Deploy", "--dry-run")]
    [InlineData("Deploy", "--plan")] // --plan checks the names against the catalog's files without parsing them
    public async Task An_unknown_image_is_a_usage_error_listing_the_valid_names_before_any_target_runs(string target, string? mode)
    {
        string[] args = ["--images", "backend,nope", "--environment", "local", "--source-root", _app.Root];
        var (exitCode, output) = await PipelineRun.RunAsync([target, .. args, .. mode is null ? Array.Empty<string>() : [mode]],
            new Dictionary<string, string>(NoEngine()) { ["PATH"] = "/nonexistent" }, _root);

        Assert.True(exitCode == 2, output);
        Assert.Contains("Unknown image: nope.", output);
        Assert.Contains("Valid images: ast, backend, compute, deerflow, devserver, frontend, marketplace, markitdown", output);
        Assert.DoesNotContain("▶", output);
    }

    [Fact]
    public async Task A_malformed_catalog_file_passes_plan_which_reads_only_file_names_and_stops_the_run_before_any_target()
    {
        File.WriteAllText(Path.Combine(_root, "images", "ast.yaml"), "repository: [unclosed");
        string[] args = ["BuildImages", "--images", "backend", "--environment", "local", "--source-root", _app.Root];
        var environment = new Dictionary<string, string>(NoEngine()) { ["PATH"] = "/nonexistent" };

        var (planExit, plan) = await PipelineRun.RunAsync([.. args, "--plan"], environment, _root);
        Assert.True(planExit == 0, plan);

        var (runExit, run) = await PipelineRun.RunAsync(args, environment, _root);
        Assert.True(runExit == 2, run);
        Assert.Contains("ast.yaml", run);
        Assert.DoesNotContain("▶", run);
    }

    [Fact]
    public async Task A_real_run_without_an_engine_fails_in_preflight_naming_the_endpoint_its_setting_and_how_to_start_one()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(
            ["BuildImages", "--environment", "local", "--images", "ast", "--source-root", _app.Root, "--registry", $"127.0.0.1:{DeadPort()}"], NoEngine(), _root);

        Assert.True(exitCode != 0, output);
        Assert.Contains($"No Docker engine answered at unix://{Path.Combine(_nowhere, "dead.sock")} (DOCKER_HOST)", output);
        Assert.Contains("Start one:", output);
        Assert.DoesNotContain("exited with code", output);
        Assert.DoesNotContain("▶ BuildImages", output);
    }

    [Fact]
    public async Task A_dry_run_without_registry_or_engine_plans_every_image_with_its_commands_and_reuse_unknown()
    {
        var registry = $"127.0.0.1:{DeadPort()}";
        var (exitCode, output) = await PipelineRun.RunAsync(
            ["BuildImages", "--environment", "local", "--images", "backend,ast", "--source-root", _app.Root, "--registry", registry, "--dry-run"], NoEngine(), _root);

        Assert.True(exitCode == 0, output);
        Assert.Contains("No Docker engine was reached, so the commands below assume buildx", output);
        Assert.DoesNotContain("unknown at not checked", output);
        var revision = "git-" + _app.Head[..12];
        foreach (var repository in new[] { "tesslate-backend", "tesslate-ast" })
        {
            Assert.Contains($"registry: GET http://{registry}/v2/{repository}/manifests/src-", output);
            Assert.Contains($"building {registry}/{repository} ({revision}, src-", output);
            Assert.Contains(" buildx build --platform linux/amd64 ", output);
            Assert.Contains($"--tag {registry}/{repository}:{revision}", output);
        }
        Assert.Equal(2, output.Split('\n').Count(l => l.Contains("reused? unknown", StringComparison.Ordinal)));
        Assert.Equal(["planned", "planned"], ImageOutcomes());
    }

    [Fact]
    public async Task A_beta_dry_run_without_aws_credentials_or_source_root_plans_the_default_images_with_tags_computed_at_run_time()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["BuildImages", "--environment", "beta", "--dry-run"],
            new Dictionary<string, string>(NoEngine()) { ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent", ["AWS_CONFIG_FILE"] = "/nonexistent" }, _root);

        Assert.True(exitCode == 0, output);
        foreach (var image in new[] { "backend", "devserver", "frontend" })
        {
            Assert.Contains(output.Split('\n'), l => l.Contains($"[{image}] [dry-run] registry: GET", StringComparison.Ordinal)
                && l.Contains("reused? unknown", StringComparison.Ordinal) && l.Contains("docker build", StringComparison.Ordinal)
                && l.Contains("git-<computed at run time>", StringComparison.Ordinal));
        }
        Assert.Equal(["planned", "planned", "planned"], ImageOutcomes());
    }

    private IEnumerable<string> ImageOutcomes() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(_root, ".nuke", "temp", "run-report.json")))!["sections"]!["images"]!["images"]!.AsArray()
            .Select(i => ((string)i!["outcome"]!).ToLowerInvariant());

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    private static int DeadPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _app.Dispose();
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_nowhere, recursive: true);
    }
}
