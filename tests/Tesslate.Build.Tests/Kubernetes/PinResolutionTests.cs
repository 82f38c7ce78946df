using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Tests.Infrastructure;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

/// <summary>Which repositories need a digest, and where each digest comes from.</summary>
public sealed class PinResolutionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Ecr = "859561299901.dkr.ecr.us-east-1.amazonaws.com";
    private static readonly ObjectRef RuntimeImages = new("ConfigMap", "tesslate", "tesslate-runtime-images");

    private static string Digest(char c) => "sha256:" + new string(c, 64);

    [Fact]
    public async Task The_beta_overlay_references_the_runtime_images_but_not_the_compute_overlays_csi_driver()
    {
        var objects = await new KustomizeRenderer(new ProcessRunner(KubeFixtures.Logger)).RenderAsync(InfrastructureLayout.Full("k8s/overlays/aws-beta"), Ct);

        var referenced = DigestPinning.References(objects, [RuntimeImages], ["K8S_DEVSERVER_IMAGE"]);

        Assert.DoesNotContain($"{Ecr}/tesslate-btrfs-csi", referenced.Keys);
        Assert.Contains(referenced[$"{Ecr}/tesslate-backend"], r => r.Object.Kind == "Deployment" && r.Object.Name == "tesslate-backend");
        Assert.Contains(referenced[$"{Ecr}/tesslate-backend"], r => r.Object.Kind == "CronJob");
        foreach (var runtime in new[] { "devserver", "markitdown", "deerflow" })
        {
            var carrier = Assert.Single(referenced[$"{Ecr}/tesslate-{runtime}"]);
            Assert.True(carrier.Object.Matches(RuntimeImages), carrier.Object.ToString());
            Assert.Equal("beta", carrier.Image.Tag);
        }
    }

    [Fact]
    public async Task Each_repository_takes_the_first_source_that_has_a_digest_and_only_referenced_ones_are_asked()
    {
        var backend = new ObjectRef("Deployment", "tesslate", "tesslate-backend");
        var referenced = new Dictionary<string, IReadOnlyList<ObjectRef>>
        {
            ["r/backend"] = [backend],
            ["r/frontend"] = [new ObjectRef("Deployment", "tesslate", "tesslate-frontend")],
            ["r/devserver"] = [RuntimeImages],
            ["r/markitdown"] = [RuntimeImages],
            ["r/deerflow"] = [RuntimeImages],
        };
        var asked = new List<string>();
        var sources = new DigestSources(
            repository => repository == "r/backend" ? Digest('b') : null,
            (repository, carriers, _) =>
            {
                asked.Add($"live {repository} in {string.Join(",", carriers)}");
                return Task.FromResult(repository is "r/frontend" or "r/devserver" ? Digest('l') : null);
            },
            (repository, _) =>
            {
                asked.Add($"tag {repository}");
                return Task.FromResult(repository == "r/markitdown" ? Digest('t') : null);
            });

        var resolution = await PinResolution.ResolveAsync(referenced, sources, Ct);

        Assert.Equal(
            [("r/backend", PinSource.Build), ("r/devserver", PinSource.Live), ("r/frontend", PinSource.Live), ("r/markitdown", PinSource.EnvironmentTag)],
            resolution.Pins.Select(p => (p.Repository, p.Source)));
        Assert.Equal($"r/devserver@{Digest('l')}", resolution.Map["r/devserver"]);
        Assert.Equal(["r/deerflow"], resolution.Missing);
        Assert.DoesNotContain(asked, a => a.Contains("r/backend", StringComparison.Ordinal));
        Assert.Contains($"live r/devserver in {RuntimeImages}", asked);
        Assert.DoesNotContain("tag r/frontend", asked);
        Assert.DoesNotContain(asked, a => a.Contains("csi", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_digest_stops_naming_the_images_and_the_images_value_that_builds_them()
    {
        var resolution = new PinResolution([], [$"{Ecr}/tesslate-deerflow", $"{Ecr}/tesslate-markitdown"]);

        var failure = ReleaseProblems.MissingDigests(resolution, new Dictionary<string, string> { [$"{Ecr}/tesslate-deerflow"] = "deerflow", [$"{Ecr}/tesslate-markitdown"] = "markitdown" }, "beta", "beta", Ecr);

        Assert.NotNull(failure);
        Assert.Contains("No digest for deerflow, markitdown", failure.Problem);
        Assert.Contains("no :beta tag", failure.Problem);
        Assert.Contains("--images deerflow,markitdown", failure.Fix);
        Assert.Null(ReleaseProblems.MissingDigests(new PinResolution([], []), new Dictionary<string, string>(), "beta", "beta", Ecr));
    }
}
