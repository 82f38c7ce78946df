using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>
/// The source root from a laptop: the three ways to set one, which of them Doctor says is in effect (and the commit it
/// points at), and the error a build without one stops with. Real git checkouts, the real pipeline in-process.
/// </summary>
public sealed class SourceRootTests : IDisposable
{
    private readonly string _root = RepositoryCopy.Create();
    private readonly GitSandbox _git = new();

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        _git.Dispose();
    }

    // Nothing else Doctor probes answers here (no engine, no cluster): only the source-root row matters.
    private static Dictionary<string, string> Offline(Dictionary<string, string>? more = null)
    {
        var environment = new Dictionary<string, string> { ["DOCKER_HOST"] = "unix:///nonexistent/docker.sock", ["KUBECONFIG"] = "/nonexistent/kubeconfig" };
        foreach (var (key, value) in more ?? [])
            environment[key] = value;
        return environment;
    }

    [Theory]
    [InlineData("command line", "--source-root")]
    [InlineData("environment", "TESSLATE_SOURCE_ROOT")]
    [InlineData("parameters file", "\"SourceRoot\" in .nuke/parameters.json")]
    [InlineData("profile file", "\"SourceRoot\" in .nuke/parameters.studio.json")]
    public async Task Doctor_names_the_way_the_source_root_was_set_and_the_commit_it_points_at(string way, string origin)
    {
        // A sibling checkout, as ../Studio would be.
        var studio = Path.Combine(Path.GetDirectoryName(_root)!, Path.GetFileName(_root) + "-Studio");
        Directory.CreateDirectory(studio);
        try
        {
            FixtureApp.Git(studio, "init", "-q", "-b", "main");
            FixtureApp.Git(studio, "commit", "-q", "--allow-empty", "-m", "application");
            var head = FixtureApp.Git(studio, "rev-parse", "HEAD").Trim();
            var relative = "../" + Path.GetFileName(studio);
            string[] args = ["Doctor", "--environment", "local"];
            var environment = Offline();
            switch (way)
            {
                case "command line":
                    args = [.. args, "--source-root", studio];
                    break;
                case "environment":
                    environment["TESSLATE_SOURCE_ROOT"] = studio;
                    break;
                case "parameters file":
                    await File.WriteAllTextAsync(Path.Combine(_root, ".nuke", "parameters.json"), $$"""{ "SourceRoot": "{{relative}}" }""", TestContext.Current.CancellationToken);
                    break;
                default:
                    await File.WriteAllTextAsync(Path.Combine(_root, ".nuke", "parameters.studio.json"), $$"""{ "SourceRoot": "{{relative}}" }""", TestContext.Current.CancellationToken);
                    args = [.. args, "--profile", "studio"];
                    break;
            }

            var (_, output) = await PipelineRun.RunAsync(args, environment, _root);

            Assert.Contains($"✔ source root", output);
            Assert.Contains($"{studio} (from {origin}) at {head}", output);
        }
        finally
        {
            Directory.Delete(studio, recursive: true);
        }
    }

    [Fact]
    public async Task Doctor_for_beta_without_a_source_root_fails_that_row_with_the_three_ways()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["Doctor", "--environment", "beta"], Offline(), _root);

        Assert.Equal(1, exitCode);
        Assert.Contains("✘ source root", output);
        Assert.Contains("not set: beta builds its images from a checkout of the application repository", output);
        AssertThreeWays(output);
    }

    [Fact]
    public async Task Doctor_says_when_the_source_root_is_no_git_checkout()
    {
        var plain = _git.Path("unpacked");
        Directory.CreateDirectory(plain);

        var (_, output) = await PipelineRun.RunAsync(["Doctor", "--environment", "local", "--source-root", plain], Offline(), _root);

        Assert.Contains($"✘ source root", output);
        Assert.Contains($"{plain} (from --source-root) is not a git checkout", output);
    }

    [Theory]
    [InlineData("Deploy")]
    [InlineData("BuildImages")]
    public async Task A_build_for_beta_without_a_source_root_stops_before_any_target_with_the_three_ways(string target)
    {
        var (exitCode, output) = await PipelineRun.RunAsync([target, "--environment", "beta"], Offline(new() { ["AWS_ACCESS_KEY_ID"] = "unused", ["AWS_SECRET_ACCESS_KEY"] = "unused" }), _root);

        Assert.Equal(2, exitCode);
        Assert.Contains("beta builds its images from a checkout of the application repository, and no source root is set.", output);
        AssertThreeWays(output);
        // Nothing started: no preflight, no lock, no release record.
        Assert.DoesNotContain("[Preflight]", output);
        Assert.False(File.Exists(Path.Combine(_root, ".nuke", "temp", "run-report.json")));
    }

    private static void AssertThreeWays(string output)
    {
        Assert.Contains("--source-root ../Studio", output);
        Assert.Contains("export TESSLATE_SOURCE_ROOT=../Studio", output);
        Assert.Contains("\"SourceRoot\": \"../Studio\" in .nuke/parameters.json", output);
    }
}
