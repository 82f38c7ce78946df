using System.Text.Json.Nodes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Xunit;

namespace Tesslate.Build.Tests.Images;

/// <summary>
/// BuildImages for beta against a registry that answers with a Basic challenge, as ECR does: moto's ECR token, docker
/// login into a real htpasswd registry, four images built and pushed in parallel by a real Docker engine. A proxy holds
/// the first manifest requests until four have arrived, so the parallel requests meet the challenge together.
/// </summary>
[Collection("moto")]
public sealed class AuthenticatedRegistryBuildTests(MotoFixture moto, DockerEngineFixture engine, AuthenticatedRegistryFixture registry)
    : MotoTests(moto), IClassFixture<AuthenticatedRegistryFixture>
{
    private static readonly string[] Images = ["backend", "frontend", "devserver", "ast"];
    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly string _root = RepositoryCopy.Create();
    private readonly string _dockerConfig = Directory.CreateTempSubdirectory("tesslate-docker-config-").FullName;

    [Fact]
    public async Task Four_images_in_parallel_build_push_and_are_reused_against_a_password_protected_registry()
    {
        foreach (var repository in new[] { "tesslate-backend", "tesslate-frontend", "tesslate-devserver", "tesslate-ast" })
            await Moto.AwsCliAsync("ecr", "create-repository", "--repository-name", repository);

        // Two real runs: the first builds and pushes all four, the second finds all four and reuses them.
        foreach (var expected in new[] { "built", "reused" })
        {
            await using var proxy = await FaultInjectingProxy.StartAsync(new Uri($"http://{registry.Registry}/"), failures: 0,
                gather: Images.Length, gatherPath: "/manifests/", preserveHost: true);
            var (exitCode, output) = await PipelineRun.RunAsync(
                ["BuildImages", "--environment", "beta", "--aws-account-id", MotoFixture.DefaultAccount, "--registry", proxy.Url.Authority,
                    "--images", string.Join(',', Images), "--source-root", _app.Root],
                Environment(), _root);

            Assert.True(exitCode == 0, output);
            Assert.True(proxy.Gathered, $"the first {Images.Length} manifest requests did not arrive together: {string.Join(", ", proxy.Seen)}");
            Assert.DoesNotContain("401 Unauthorized", output);
            Assert.DoesNotContain(AuthenticatedRegistryFixture.Password, output);
            var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_root, ".nuke", "temp", "build-report.json"), TestContext.Current.CancellationToken))!;
            Assert.Equal(Images.Order(), report["images"]!.AsArray().Select(i => (string)i!["name"]!).Order());
            Assert.All(report["images"]!.AsArray(), i => Assert.Equal(expected, (string?)i!["outcome"]));
        }
    }

    private Dictionary<string, string> Environment() => new(Moto.RunEnvironment())
    {
        ["DOCKER_EXE"] = engine.DockerExecutable,
        ["DOCKER_HOST"] = engine.Host,
        ["DOCKER_CONFIG"] = _dockerConfig,
        ["TESSLATE_GIT_ALLOW_FILE_PROTOCOL"] = "1",
    };

    public override ValueTask DisposeAsync()
    {
        _app.Dispose();
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_dockerConfig, recursive: true);
        return base.DisposeAsync();
    }
}
