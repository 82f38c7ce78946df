using System.Text.Json.Nodes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

public sealed class DeployDryRunTests
{
    [Theory]
    [InlineData("beta")]
    [InlineData("production")]
    public async Task Deploy_dry_run_succeeds_on_a_machine_without_credentials_or_engines(string environment)
    {
        var root = RepositoryCopy.Create([".nuke", "k8s", "terraform", "images", "tests/fixtures"]);
        try
        {
            var (exitCode, output) = await PipelineRun.RunAsync(["Deploy", "--environment", environment, "--dry-run"],
                new Dictionary<string, string> { ["PATH"] = "/nonexistent", ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent", ["AWS_CONFIG_FILE"] = "/nonexistent" }, root);
            Assert.True(exitCode == 0, output);
            var report = JsonNode.Parse(File.ReadAllText(Path.Combine(root, ".nuke", "temp", "run-report.json")))!;
            Assert.True((bool)report["dryRun"]!);
            Assert.Contains("Deploy", report["targets"]!.AsArray().Select(t => (string?)t!["name"]));
            // What ReleasePlan could not check (no credentials) must not hide what the later targets would do.
            foreach (var image in new[] { "backend", "frontend", "devserver" })
                Assert.Contains($"[{image}] [dry-run] registry: GET", output);
            Assert.Contains($"would move :{environment} to the deployed digests", output);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Shared_is_refused_for_image_and_cluster_targets_before_anything_runs()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["Deploy", "--environment", "shared", "--dry-run"]);
        Assert.Equal(2, exitCode);
        Assert.Contains("shared is the platform stack", output);
    }

    [Fact]
    public async Task Role_is_a_usage_error_for_shared()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["TerraformPlan", "--environment", "shared", "--role", "deployer"]);
        Assert.Equal(2, exitCode);
        Assert.Contains("--role does not apply to the shared environment", output);
    }
}
