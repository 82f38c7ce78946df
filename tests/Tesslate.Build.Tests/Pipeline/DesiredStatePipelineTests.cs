using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Kubernetes.Operations;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>
/// One desired state for every change to the cluster, through the real pipeline against the fake API server and the
/// real registry: Reload and restarts keep every catalog image pinned and are recorded, the compute layer is released
/// by Deploy in two steps (the CSI node DaemonSet to completion, then the Volume Hub), Status names the commit of an
/// image set by tag, and no target that applies sends an unpinned catalog image.
/// </summary>
[Collection(RepositoryCopy.CatalogRepositories)]
public sealed class DesiredStatePipelineTests(RegistryFixture registry) : IAsyncLifetime
{
    private const string System = "kube-system";
    private const string Csi = "tesslate-btrfs-csi-node";
    private const string Hub = "tesslate-volume-hub";
    private const string Precache = "tesslate-image-precache";

    private LocalRelease _env = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _env = await LocalRelease.StartAsync(registry.Address, nodeCount: 3);
        // Images no release here builds get a `local` tag, so every catalog image has a digest somewhere.
        foreach (var image in new[] { "markitdown", "deerflow" })
            await _env.TagLocalAsync(image);
    }

    public ValueTask DisposeAsync() => _env.DisposeAsync();

    private static KubeResource DaemonSets => KubeResources.Get("apps", "daemonsets");

    /// <summary>Catalog image references among every container, init container and runtime image of the tesslate namespace.</summary>
    private IReadOnlyList<string> LiveCatalogImages()
    {
        var objects = _env.Fake.Store.List(KubeResources.Deployments, LocalRelease.Namespace).Select(d => LocalRelease.Manifest(d, "Deployment"))
            .Concat(_env.Fake.Store.List(KubeResources.Get("batch", "cronjobs"), LocalRelease.Namespace).Select(c => LocalRelease.Manifest(c, "CronJob")))
            .Append(LocalRelease.Manifest(_env.Get(KubeResources.Get("", "configmaps"), LocalRelease.Namespace, "tesslate-runtime-images")!, "ConfigMap"))
            .Select(o => new KubeObject(o));
        return [.. DigestPinning.References(objects, [new ObjectRef("ConfigMap", LocalRelease.Namespace, "tesslate-runtime-images")],
                _env.Catalog.Images.Where(i => i.RuntimeReferenced).Select(i => $"K8S_{i.Name.ToUpperInvariant()}_IMAGE"))
            .Where(r => r.Key.StartsWith(registry.Address + "/tesslate-", StringComparison.Ordinal))
            .SelectMany(r => r.Value.Select(v => v.Image.ToString()))];
    }

    [Fact]
    public async Task After_Deploy_Reload_leaves_every_catalog_image_pinned_records_a_release_and_a_named_reload_restarts_only_that_workload()
    {
        var v1 = await _env.PushWorkloadImagesAsync("v1");
        var (exitCode, output) = await _env.DeployAsync(v1);
        Assert.True(exitCode == 0, output);
        var pinned = LiveCatalogImages();
        Assert.NotEmpty(pinned);
        Assert.All(pinned, i => Assert.Contains("@sha256:", i));
        var templates = _env.Templates();

        (exitCode, output) = await _env.RunAsync("Reload");

        Assert.True(exitCode == 0, output);
        Assert.Equal(pinned.Order(), LiveCatalogImages().Order());
        var reload = _env.History()[^1]!;
        Assert.Equal(("Reload", "Succeeded"), ((string?)reload["kind"], (string?)reload["outcome"]));
        Assert.Contains(reload["workloads"]!.AsArray(), w => (string?)w!["workload"]!["name"] == "tesslate-backend");
        // Backend, frontend and worker restarted, with the templates they had apart from the restart annotation.
        foreach (var name in new[] { "tesslate-backend", "tesslate-frontend", "tesslate-worker" })
            Assert.NotNull(_env.Get(KubeResources.Deployments, LocalRelease.Namespace, name)!["spec"]!["template"]!["metadata"]!["annotations"]?[RolloutRestarter.RestartedAtAnnotation]);

        templates = _env.Templates();
        var frontendImages = _env.Images("Deployment", LocalRelease.Namespace, "tesslate-frontend");
        (exitCode, output) = await _env.RunAsync("Reload", "--workloads", "frontend");

        Assert.True(exitCode == 0, output);
        var changed = _env.Templates().Where(t => templates[t.Key] != t.Value).Select(t => t.Key).ToList();
        Assert.Equal([$"{LocalRelease.Namespace}/tesslate-frontend"], changed);
        Assert.Equal(frontendImages, _env.Images("Deployment", LocalRelease.Namespace, "tesslate-frontend"));
        var restart = _env.History()[^1]!;
        Assert.Equal(("Reload", "Succeeded"), ((string?)restart["kind"], (string?)restart["outcome"]));
        Assert.Equal(["tesslate-frontend"], restart["workloads"]!.AsArray().Select(w => (string?)w!["workload"]!["name"]));
    }

    [Fact]
    public async Task A_Deploy_that_builds_compute_rolls_the_CSI_DaemonSet_to_completion_while_the_Volume_Hub_keeps_its_digest_then_rolls_the_Hub_records_both_and_moves_their_tags()
    {
        var v1 = await _env.PushWorkloadImagesAsync("v1");
        v1["compute"] = await _env.PushAsync("compute", "v1");
        var (exitCode, output) = await _env.DeployAsync(v1, "--compute-overlay", LocalRelease.ComputeOverlay);
        Assert.True(exitCode == 0, output);
        Assert.Equal(_env.Reference("compute", v1["compute"]), _env.Images("Deployment", System, Hub)["volume-hub"]);
        var precache = _env.Templates()[$"{System}/{Precache}"];

        var v2 = new Dictionary<string, string>(v1) { ["compute"] = await _env.PushAsync("compute", "v2") };
        _env.Fake.Simulation.SetRolloutDuration(System, Csi, TimeSpan.FromSeconds(3));
        var hubChanged = WhenHubChangesAsync(_env.Reference("compute", v2["compute"]));
        _env.Fake.ClearRequests();

        (exitCode, output) = await _env.DeployAsync(v2, "--compute-overlay", LocalRelease.ComputeOverlay);

        Assert.True(exitCode == 0, output);
        // When the Hub first showed the new digest, every CSI node already ran it.
        var csiThen = await hubChanged;
        Assert.Equal(_env.Reference("compute", v2["compute"]), (string?)csiThen["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
        var status = csiThen["status"]!;
        Assert.Equal(3, (int?)status["desiredNumberScheduled"]);
        Assert.Equal(3, (int?)status["updatedNumberScheduled"]);
        Assert.Equal(3, (int?)status["numberAvailable"]);
        Assert.Equal((long?)csiThen["metadata"]!["generation"], (long?)status["observedGeneration"]);
        var requests = _env.Fake.Requests.ToList();
        var hubApplied = requests.FindIndex(r => r.Method == "PATCH" && !r.DryRun && r.Path.EndsWith($"/deployments/{Hub}", StringComparison.Ordinal));
        var csiApplied = requests.FindIndex(r => r.Method == "PATCH" && !r.DryRun && r.Path.EndsWith($"/daemonsets/{Csi}", StringComparison.Ordinal));
        Assert.True(csiApplied >= 0 && hubApplied > csiApplied, "the CSI DaemonSet is applied first, the Volume Hub after its rollout");
        // The pre-cache pulls the devserver, which did not change: not rolled.
        Assert.Equal(precache, _env.Templates()[$"{System}/{Precache}"]);

        var release = _env.History()[^1]!;
        Assert.Equal(("Deploy", "Succeeded"), ((string?)release["kind"], (string?)release["outcome"]));
        foreach (var (kind, name, container) in new[] { ("DaemonSet", Csi, "csi-node"), ("Deployment", Hub, "volume-hub") })
        {
            var entry = release["workloads"]!.AsArray().Single(w => (string?)w!["workload"]!["name"] == name && (string?)w["workload"]!["kind"] == kind)!;
            Assert.Equal(_env.Reference("compute", v1["compute"]), (string?)entry["imagesBefore"]![container]);
            Assert.Equal(_env.Reference("compute", v2["compute"]), (string?)entry["imagesAfter"]![container]);
        }
        Assert.Equal(v2["compute"], await _env.TagAsync("compute", "local"));
    }

    [Fact]
    public async Task A_failing_CSI_rollout_leaves_the_Volume_Hub_alone_and_rollback_on_failure_returns_the_DaemonSet_to_its_previous_digest()
    {
        var v1 = await _env.PushWorkloadImagesAsync("v1");
        v1["compute"] = await _env.PushAsync("compute", "v1");
        var (exitCode, output) = await _env.DeployAsync(v1, "--compute-overlay", LocalRelease.ComputeOverlay);
        Assert.True(exitCode == 0, output);

        var broken = new Dictionary<string, string>(v1) { ["compute"] = await _env.PushAsync("compute", "broken") };
        _env.Fake.Faults.Inject(System, Csi, PodFault.CrashLoop(2, ["btrfs: mount failed"]));
        _env.Fake.ClearRequests();
        var healed = HealWhenPatchedAsync("daemonsets", Csi);

        (exitCode, output) = await _env.DeployAsync(broken, "--compute-overlay", LocalRelease.ComputeOverlay, "--rollback-on-failure");
        await healed;

        Assert.NotEqual(0, exitCode);
        Assert.Contains("btrfs: mount failed", output);
        Assert.Contains($"{Hub} keeps what it runs", output);
        Assert.Equal(_env.Reference("compute", v1["compute"]), _env.Images("DaemonSet", System, Csi)["csi-node"]);
        Assert.Equal(_env.Reference("compute", v1["compute"]), _env.Images("Deployment", System, Hub)["volume-hub"]);
        Assert.DoesNotContain(_env.Fake.Mutations, m => m.Path.EndsWith($"/deployments/{Hub}", StringComparison.Ordinal));
        Assert.Equal("RolledBack", (string?)_env.History()[^1]!["outcome"]);
        Assert.Equal(v1["compute"], await _env.TagAsync("compute", "local"));
    }

    [Fact]
    public async Task Status_after_a_third_party_set_image_by_tag_names_the_commit_and_says_by_tag()
    {
        var v1 = await _env.PushWorkloadImagesAsync("v1");
        var (exitCode, output) = await _env.DeployAsync(v1);
        Assert.True(exitCode == 0, output);
        const string commit = "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f";
        var hotfix = $"hotfix-{Guid.NewGuid():N}"[..15];
        await RegistryImages.PushAsync(registry.Address, _env.Catalog["frontend"].Repository, hotfix, new Dictionary<string, string> { [ImageRevisions.RevisionLabel] = commit }, Ct);
        var container = _env.Images("Deployment", LocalRelease.Namespace, "tesslate-frontend").Keys.First();

        // kubectl set image deployment/tesslate-frontend <container>=<registry>/tesslate-frontend:<tag>
        using var client = _env.Fake.CreateClient();
        var setImage = new JsonObject
        {
            ["spec"] = new JsonObject { ["template"] = new JsonObject { ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = container, ["image"] = $"{_env.Repository("frontend")}:{hotfix}" }) } } },
        };
        await client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(setImage.ToJsonString(), V1Patch.PatchType.StrategicMergePatch), "tesslate-frontend", LocalRelease.Namespace,
            fieldManager: "kubectl-set", cancellationToken: Ct);

        (exitCode, output) = await _env.RunAsync("Status");

        Assert.True(exitCode == 0, output);
        var line = output.Split('\n').First(l => l.Contains($"tesslate-frontend:{hotfix}", StringComparison.Ordinal));
        Assert.Contains($"(git {commit[..12]}, by tag)", line);
    }

    [Fact]
    public async Task No_target_that_applies_sends_an_unpinned_catalog_image()
    {
        var v1 = await _env.PushWorkloadImagesAsync("v1");
        v1["compute"] = await _env.PushAsync("compute", "v1");
        var v2 = new Dictionary<string, string>(v1) { ["backend"] = await _env.PushAsync("backend", "v2"), ["compute"] = await _env.PushAsync("compute", "v2") };
        List<string[]> runs =
        [
            ["Deploy (v1)"], ["Deploy (v2)"], ["Reload"], ["Reload", "--workloads", "backend,volume-hub"],
            ["DeployCompute"], ["Rollback"], ["Rollback", "--release", "1"],
            ["KustomizeApply", "--skip"], ["Scale", "--workloads", "worker", "--replicas", "2"],
        ];
        var sent = new List<RecordedRequest>();
        foreach (var run in runs)
        {
            _env.Fake.ClearRequests();
            var (exitCode, output) = run[0] switch
            {
                "Deploy (v1)" => await _env.DeployAsync(v1, "--compute-overlay", LocalRelease.ComputeOverlay),
                "Deploy (v2)" => await _env.DeployAsync(v2, "--compute-overlay", LocalRelease.ComputeOverlay),
                _ => await _env.RunAsync([.. run, "--compute-overlay", LocalRelease.ComputeOverlay]),
            };
            Assert.True(exitCode == 0, $"{string.Join(' ', run)}: {output}");
            var writes = _env.Fake.Requests.Where(r => r.Body is not null && !r.Path.EndsWith("/selfsubjectaccessreviews", StringComparison.Ordinal)).ToList();
            Assert.True(writes.Count > 0, $"{string.Join(' ', run)} sent nothing to check");
            sent.AddRange(writes);
        }

        var unpinned = sent.SelectMany(r => _env.UnpinnedCatalogReferences(r.Body!).Select(i => $"{r.Method} {r.Path}: {i}")).ToList();
        Assert.Empty(unpinned);
        // The walk saw every kind of write that carries images: applies, dry runs, the rollbacks' patches, the compute layer.
        Assert.Contains(sent, r => r.ContentType == "application/apply-patch+yaml" && r.Path.EndsWith($"/daemonsets/{Csi}", StringComparison.Ordinal));
        Assert.Contains(sent, r => r.ContentType == "application/strategic-merge-patch+json" && r.Body!.Contains("@sha256:", StringComparison.Ordinal));
        Assert.Contains(sent, r => r.DryRun);
    }

    /// <summary>The CSI DaemonSet as it was when the Volume Hub first named <paramref name="image"/> (polled with a deadline).</summary>
    private Task<JsonObject> WhenHubChangesAsync(string image) => Task.Run(async () =>
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            var hub = _env.Get(KubeResources.Deployments, System, Hub);
            var csi = _env.Get(DaemonSets, System, Csi);
            if ((string?)hub?["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"] == image)
                return csi!;
            await Task.Delay(10, Ct);
        }
        throw new TimeoutException($"{Hub} never ran {image}");
    }, Ct);

    /// <summary>The broken image's fault goes with it: cleared as soon as the rollback patches the workload's images.</summary>
    private Task HealWhenPatchedAsync(string resource, string name) => Task.Run(async () =>
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < deadline && !_env.Fake.Mutations.Any(m => m.Path.EndsWith($"/{resource}/{name}", StringComparison.Ordinal)
            && m.ContentType?.Contains("strategic-merge-patch", StringComparison.Ordinal) == true))
            await Task.Delay(10, Ct);
        _env.Fake.Faults.Clear(System, name);
    }, Ct);
}
