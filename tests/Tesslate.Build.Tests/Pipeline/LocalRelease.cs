using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Kubernetes;
using Tesslate.Build.Tests.Pipeline;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>
/// The local environment on the fake API server, released by the real pipeline in-process from build reports of small
/// images pushed to the real registry (as the CI deploy job does after its build job), in a copy of the repository
/// whose local overlay a test may wrap with its own patches.
/// </summary>
internal sealed partial class LocalRelease : IAsyncDisposable
{
    public const string Context = "tesslate-fake";
    public const string Namespace = "tesslate";

    /// <summary>The test compute overlay beside this file (btrfs CSI node DaemonSet, Volume Hub, image pre-cache).</summary>
    public static readonly string ComputeOverlay = Beside("compute-overlay");

    private static readonly ObjectRef RuntimeImages = new("ConfigMap", Namespace, "tesslate-runtime-images");

    private readonly string _work = Directory.CreateTempSubdirectory("tesslate-local-release-").FullName;
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly FixtureApp _app = FixtureApp.Create();
    private string _kubeconfig = "";

    private LocalRelease(string registry) => Registry = registry;

    public string Registry { get; }

    public string Root { get; } = RepositoryCopy.Create();

    public FakeKubeApi Fake { get; private set; } = null!;

    public ImageCatalog Catalog => ImageCatalog.Load(Path.Combine(Root, "images"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<LocalRelease> StartAsync(string registry, int nodeCount = 2)
    {
        var release = new LocalRelease(registry);
        release.Fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { DefaultRolloutDuration = TimeSpan.FromMilliseconds(600), NodeCount = nodeCount }, Ct);
        release.Fake.Exec.Respond("python -m scripts.seed_apps", 0, "seeded");
        release._kubeconfig = FakeKubeconfig.Write(release._work, release.Fake.Url, Context);
        return release;
    }

    public string Repository(string image) => $"{Registry}/{Catalog[image].Repository}";

    public string Reference(string image, string digest) => $"{Repository(image)}@{digest}";

    /// <summary>A distinct image of the catalog image's repository under an immutable tag of this run; its digest.</summary>
    public Task<string> PushAsync(string image, string version, IReadOnlyDictionary<string, string>? labels = null) =>
        RegistryImages.PushAsync(Registry, Catalog[image].Repository, $"git-{_run}{version}",
            new Dictionary<string, string>(labels ?? new Dictionary<string, string>()) { ["c"] = $"{_run} {image} {version}" }, Ct);

    /// <summary>Points the environment tag `local` of a catalog image at a new image of this run (an image no release builds, found by its tag).</summary>
    public Task<string> TagLocalAsync(string image) =>
        TestImages.PushAsync(Registry, Catalog[image].Repository, "local", $"{_run} {image} tagged", Ct);

    public async Task<string?> TagAsync(string image, string tag)
    {
        using var client = new RegistryClient(Registry);
        return await client.GetDigestAsync(Catalog[image].Repository, tag, Ct);
    }

    public Task<(int ExitCode, string Output)> RunAsync(params string[] args) =>
        PipelineRun.RunAsync(
            [.. args, "--environment", "local", "--kube-context", Context, "--source-root", _app.Root, "--registry", Registry],
            new Dictionary<string, string> { ["KUBECONFIG"] = _kubeconfig, ["TESSLATE_GIT_ALLOW_FILE_PROTOCOL"] = "1" },
            Root);

    /// <summary>Deploy exactly these images (catalog name → digest), as a CI deploy job does after its build job.</summary>
    public Task<(int ExitCode, string Output)> DeployAsync(IReadOnlyDictionary<string, string> built, params string[] extra)
    {
        var path = Path.Combine(_work, $"build-report-{Guid.NewGuid():N}.json");
        new BuildReport
        {
            Registry = Registry,
            Environment = "local",
            Images = [.. built.Select(b => new ImageReport { Name = b.Key, Registry = Registry, Repository = Catalog[b.Key].Repository, Digest = b.Value, Outcome = ImageOutcome.Built })],
        }.Write(path);
        return RunAsync(["Deploy", "--build-report", path, "--skip", "BuildImages", .. extra]);
    }

    /// <summary>Every image a workload of the local overlay runs (and the devserver the backend starts), pushed under this run's tags.</summary>
    public async Task<Dictionary<string, string>> PushWorkloadImagesAsync(string version)
    {
        var digests = new Dictionary<string, string>();
        foreach (var image in new[] { "backend", "frontend", "ast", "marketplace", "devserver" })
            digests[image] = await PushAsync(image, version);
        return digests;
    }

    public JsonObject? Get(KubeResource resource, string? ns, string name) => Fake.Store.Get(resource, ns, name);

    public Dictionary<string, string> Images(string kind, string ns, string name)
    {
        var obj = Get(KubeResources.All.Single(r => r.Kind == kind), ns, name)!;
        return new Dictionary<string, string>(WorkloadState.From(new KubeObject(Manifest(obj, kind))).Images);
    }

    /// <summary>A stored object with its apiVersion and kind (list items and the store leave them out).</summary>
    public static JsonObject Manifest(JsonObject stored, string kind)
    {
        var copy = stored.DeepClone().AsObject();
        var resource = KubeResources.All.First(r => r.Kind == kind);
        copy["apiVersion"] ??= resource.GroupVersion;
        copy["kind"] ??= kind;
        return copy;
    }

    public JsonArray History() =>
        JsonNode.Parse((string)Get(KubeResources.Get("", "configmaps"), Namespace, "tesslate-deploy-history")!["data"]!["releases.json"]!)!.AsArray();

    /// <summary>Pod templates (with generations) of every Deployment and DaemonSet: what a rollout would change.</summary>
    public Dictionary<string, string> Templates() =>
        Fake.Store.List(KubeResources.Deployments).Concat(Fake.Store.List(KubeResources.Get("apps", "daemonsets")))
            .ToDictionary(d => $"{d["metadata"]!["namespace"]}/{d["metadata"]!["name"]}", d => $"generation {d["metadata"]!["generation"]}: {d["spec"]!["template"]!.ToJsonString()}");

    /// <summary>
    /// Replaces the copy's local overlay with one that includes it and adds the given patches and resources (the
    /// original moves to k8s/overlays/local-base), so a test changes the manifests the way a commit would.
    /// </summary>
    public void WrapLocalOverlay(IReadOnlyList<string> patches, IReadOnlyList<string>? resources = null)
    {
        var overlay = Path.Combine(Root, "k8s", "overlays", "local");
        var original = Path.Combine(Root, "k8s", "overlays", "local-base");
        if (!Directory.Exists(original))
            Directory.Move(overlay, original);
        if (Directory.Exists(overlay))
            Directory.Delete(overlay, recursive: true);
        Directory.CreateDirectory(overlay);
        var text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../local-base\n";
        for (var i = 0; i < (resources ?? []).Count; i++)
        {
            File.WriteAllText(Path.Combine(overlay, $"resource-{i}.yaml"), resources![i]);
            text += $"  - resource-{i}.yaml\n";
        }
        if (patches.Count > 0)
            text += "patches:\n";
        for (var i = 0; i < patches.Count; i++)
        {
            File.WriteAllText(Path.Combine(overlay, $"patch-{i}.yaml"), patches[i]);
            text += $"  - path: patch-{i}.yaml\n";
        }
        File.WriteAllText(Path.Combine(overlay, "kustomization.yaml"), text);
    }

    /// <summary>The copy's local overlay, rendered by the real kubectl kustomize, with catalog references moved to the test registry.</summary>
    public async Task<IReadOnlyList<KubeObject>> RenderAsync()
    {
        var rendered = await new KustomizeRenderer(new ProcessRunner(KubeFixtures.Logger)).RenderAsync(Path.Combine(Root, "k8s", "overlays", "local"), Ct);
        return RegistryRetargeting.Retarget(rendered, EnvironmentTable.LocalRegistry, Registry, Catalog.Images.Select(i => i.Repository), [RuntimeImages], RuntimeVariables, ["APP_IMAGE_REGISTRY_PREFIX"]);
    }

    private IReadOnlyList<string> RuntimeVariables => [.. Catalog.Images.Where(i => i.RuntimeReferenced).Select(i => $"K8S_{i.Name.ToUpperInvariant()}_IMAGE")];

    /// <summary>
    /// The local overlay as a release of these digests (catalog name → digest) applies it, then created in the fake as
    /// client-side `kubectl apply` leaves objects: how beta and production were deployed before this pipeline.
    /// </summary>
    public async Task SeedAsKubectlApplyAsync(IReadOnlyDictionary<string, string> digests)
    {
        var pins = digests.ToDictionary(d => Repository(d.Key), d => Reference(d.Key, d.Value), StringComparer.Ordinal);
        foreach (var obj in ApplyOrder.Sort(DigestPinning.Pin(await RenderAsync(), pins, [RuntimeImages], RuntimeVariables).Objects))
            Fake.SeedAsKubectlApply(obj.Body);
    }

    /// <summary>Catalog image references (this registry's tesslate-* repositories) in a request body that name a tag, not a digest.</summary>
    public IReadOnlyList<string> UnpinnedCatalogReferences(string body) =>
        [.. CatalogReference().Matches(body).Select(m => m.Value).Where(v => v.StartsWith(Registry + "/", StringComparison.Ordinal) && !v.Contains("@sha256:", StringComparison.Ordinal))];

    [GeneratedRegex(@"[A-Za-z0-9.:-]+/tesslate-[a-z0-9-]+(?:[:@][^""\s,}]*)?")]
    private static partial Regex CatalogReference();

    public async ValueTask DisposeAsync()
    {
        await Fake.DisposeAsync();
        _app.Dispose();
        Directory.Delete(Root, recursive: true);
        Directory.Delete(_work, recursive: true);
    }

    private static string Beside(string name, [System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, name);
}
