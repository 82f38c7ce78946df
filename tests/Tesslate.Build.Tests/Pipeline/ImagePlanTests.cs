using System.Text.Json.Nodes;
using Tesslate.Build.Tests.Aws;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Xunit;

namespace Tesslate.Build.Tests.Images;

/// <summary>Which images a run builds or reuses is decided once, read-only, in ReleasePlan; BuildImages acts on it.</summary>
[Collection(RepositoryCopy.CatalogRepositories)]
public sealed class ImagePlanTests(DockerEngineFixture engine, RegistryFixture registry) : IDisposable
{
    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly string _root = RepositoryCopy.Create();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BuildImages_reuses_what_ReleasePlan_found_without_asking_the_registry_for_the_fingerprint_again()
    {
        var (exitCode, output) = await BuildAsync(registry.Address);
        Assert.True(exitCode == 0, output);

        // The same registry behind a proxy that records every request: the second run's registry traffic, alone.
        await using var proxy = await FaultInjectingProxy.StartAsync(new Uri($"http://{registry.Address}/"), failures: 0);
        (exitCode, output) = await BuildAsync(proxy.Url.Authority);
        Assert.True(exitCode == 0, output);

        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_root, ".nuke", "temp", "build-report.json"), Token))!;
        Assert.All(report["images"]!.AsArray(), i => Assert.Equal("reused", (string?)i!["outcome"]));
        // Decided in ReleasePlan (the fingerprints and the lookups happen there), before BuildImages started.
        Assert.Contains("[ReleasePlan] Docker engine", output);
        foreach (var repository in new[] { "tesslate-ast", "tesslate-backend" })
        {
            var lookups = proxy.Seen.Where(r => r.Contains($" /v2/{repository}/manifests/src-", StringComparison.Ordinal)).ToList();
            Assert.True(lookups is [var only] && only.StartsWith("GET ", StringComparison.Ordinal), $"{repository}: {string.Join(", ", proxy.Seen)}");
        }
    }

    private Task<(int ExitCode, string Output)> BuildAsync(string registryAddress) =>
        PipelineRun.RunAsync(
            ["BuildImages", "--environment", "local", "--images", "ast,backend", "--source-root", _app.Root, "--registry", registryAddress],
            new Dictionary<string, string> { ["DOCKER_EXE"] = engine.DockerExecutable, ["DOCKER_HOST"] = engine.Host, ["TESSLATE_GIT_ALLOW_FILE_PROTOCOL"] = "1" },
            _root);

    public void Dispose()
    {
        _app.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
