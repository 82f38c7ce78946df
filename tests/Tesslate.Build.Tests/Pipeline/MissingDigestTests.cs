using System.Text.Json.Nodes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>
/// Outside local, an image the overlay references with no digest anywhere (not built in this run, not running, no
/// environment tag in the registry) stops the release before its first apply: deploying a moving tag is what the
/// digests exist to prevent. Beta through moto's EKS pointed at the fake API server, an empty real registry.
/// </summary>
[Collection("moto")]
public sealed class MissingDigestTests(MotoFixture moto) : MotoTests(moto)
{
    [Fact]
    public async Task A_beta_Deploy_with_images_that_have_no_digest_stops_before_any_apply_naming_them_and_the_images_value_that_builds_them()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await FakeKubeApi.StartAsync(ct: ct);
        // Terraform owns the namespace on the real cluster: it exists before the first Deploy.
        fake.Seed(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "tesslate" } });
        await MotoEks.CreateClusterAsync(Moto, "tesslate-beta-eks");
        await using var eks = await MotoEks.PointClustersAtAsync(Moto.Url, fake.Url);
        // A registry with nothing in it: no environment tag to fall back on.
        using var registry = await RegistryServer.StartAsync(RegistryAccess.ReadOnly);

        var (exitCode, output) = await PipelineRun.RunAsync(
            ["Deploy", "--environment", "beta", "--aws-account-id", MotoFixture.DefaultAccount, "--registry", registry.Address,
             "--skip", "SubmodulesInit", "EcrLogin", "BuildImages", "TerraformApply"],
            Moto.RunEnvironment(eks.Url));

        Assert.True(exitCode == 1, output);
        Assert.Matches($@"No digest for [a-z, ]*\bbackend\b[a-z, ]*: not built in this run, not running in beta, and no :beta tag in {registry.Address}\.", output);
        Assert.Matches(@"Build them in this run: --images [a-z,]*\bbackend\b", output);
        // The cluster was reached (the lock was taken, the failed release recorded) and nothing else was written.
        Assert.Contains(fake.Mutations, m => m.Path.Contains("/leases", StringComparison.Ordinal));
        Assert.DoesNotContain(fake.Mutations, m => !m.Path.Contains("/leases", StringComparison.Ordinal)
            && !m.Path.EndsWith("/configmaps/tesslate-deploy-history", StringComparison.Ordinal) && !m.Path.EndsWith("/namespaces/tesslate/configmaps", StringComparison.Ordinal));
        Assert.Empty(fake.Store.List(KubeResources.Get("apps", "deployments"), "tesslate"));
    }
}
