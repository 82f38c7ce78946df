using Tesslate.Build.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

public sealed class PinningTests
{
    private const string Backend = "registry.test:5000/tesslate-backend";
    private const string Devserver = "registry.test:5000/tesslate-devserver";
    private const string Csi = "registry.test:5000/tesslate-btrfs-csi";

    private static readonly Dictionary<string, string> Pins = new()
    {
        [Backend] = Backend + "@sha256:" + new string('b', 64),
        [Devserver] = Devserver + "@sha256:" + new string('d', 64),
        [Csi] = Csi + "@sha256:" + new string('c', 64),
        ["registry.test:5000/tesslate-marketplace"] = "registry.test:5000/tesslate-marketplace@sha256:" + new string('a', 64),
    };

    [Fact]
    public async Task Workloads_of_an_image_are_read_from_the_manifests_including_cronjobs_and_init_containers()
    {
        var objects = await KubeFixtures.RenderFixtureAsync();
        Assert.Equal(
            ["CronJob/tesslate/snapshot-cleanup", "Deployment/tesslate/tesslate-backend", "Deployment/tesslate/tesslate-gateway", "Deployment/tesslate/tesslate-worker"],
            WorkloadImages.Using(objects, Backend).Select(r => r.ToString()).Order());
        Assert.Equal(["DaemonSet/kube-system/tesslate-image-precache"], WorkloadImages.Using(objects, Devserver).Select(r => r.ToString()));
        Assert.Equal(2, WorkloadImages.Using(objects, Csi).Count);
        Assert.True(WorkloadImages.FromManifests(objects).Single(u => u.Image.Repository == Devserver).IsInit);
    }

    [Fact]
    public async Task Every_container_init_container_runtime_configmap_value_and_env_variable_gets_the_digest()
    {
        var objects = await KubeFixtures.RenderFixtureAsync();
        var result = DigestPinning.Pin(objects, Pins, [new ObjectRef("ConfigMap", "tesslate", "tesslate-runtime-images")], ["K8S_DEVSERVER_IMAGE"]);

        var uses = WorkloadImages.FromManifests(result.Objects);
        Assert.All(uses.Where(u => Pins.ContainsKey(u.Image.Repository)), u => Assert.Equal(Pins[u.Image.Repository], u.Image.ToString()));
        var configMap = result.Objects.Single(o => o.Name == "tesslate-runtime-images");
        Assert.Equal(Pins[Devserver], (string?)configMap.Body["data"]!["devserver"]);
        Assert.Equal("not an image", (string?)configMap.Body["data"]!["note"]);
        var backend = result.Objects.Single(o => o.Name == "tesslate-backend" && o.Kind == "Deployment");
        Assert.Equal(Pins[Devserver], (string?)backend.Body["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]![0]!["value"]);
        Assert.Contains(result.Changes, c => c.Location == "initContainer pull-devserver");
        // The input is not modified: pinning is pure.
        Assert.EndsWith(":local", (string?)objects.Single(o => o.Name == "tesslate-runtime-images").Body["data"]!["devserver"]);
    }

    [Fact]
    public async Task Unpinned_images_and_unused_pins_are_reported()
    {
        var objects = await KubeFixtures.RenderFixtureAsync();
        var result = DigestPinning.Pin(objects, Pins);
        Assert.Contains(result.Unpinned, u => u.Image.Repository == "registry.test:5000/tesslate-frontend");
        Assert.Contains(result.Unpinned, u => u.Image.Repository == "redis");
        Assert.Equal(["registry.test:5000/tesslate-marketplace"], result.UnusedRepositories);
    }

    [Fact]
    public async Task Pinning_is_deterministic_so_an_unchanged_redeploy_renders_identical_pod_templates()
    {
        var first = DigestPinning.Pin(await KubeFixtures.RenderFixtureAsync(), Pins);
        var second = DigestPinning.Pin(await KubeFixtures.RenderFixtureAsync(), Pins);
        Assert.Equal(first.Objects.Select(o => o.ToJson()), second.Objects.Select(o => o.ToJson()));
        // Pinning already-pinned manifests changes nothing.
        Assert.Empty(DigestPinning.Pin(first.Objects, Pins).Changes);
    }

    [Fact]
    public void A_pin_that_is_not_a_digest_of_its_own_repository_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => DigestPinning.Pin([], new Dictionary<string, string> { [Backend] = Backend + ":beta" }));
        Assert.Contains("@sha256:", e.Message);
        Assert.Throws<ArgumentException>(() => DigestPinning.Pin([], new Dictionary<string, string> { [Backend] = Devserver + "@sha256:" + new string('d', 64) }));
    }
}
