using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>
/// An in-memory registry's tags (repository → tag → digest) behind <see cref="IImageTagger"/>, recording every move.
/// The registry client that will implement the interface for real is tested against the real registry elsewhere.
/// </summary>
internal sealed class FakeImageTagger : IImageTagger
{
    private readonly ConcurrentDictionary<(string Repository, string Tag), string> _tags = new();

    public ConcurrentQueue<(string Repository, string Digest, string Tag)> Moves { get; } = new();

    public void Set(string repository, string tag, string digest) => _tags[(repository, tag)] = digest;

    public string? Get(string repository, string tag) => _tags.TryGetValue((repository, tag), out var digest) ? digest : null;

    public Task<string?> ResolveDigestAsync(string repository, string tag, CancellationToken cancellationToken) =>
        Task.FromResult(Get(repository, tag));

    public Task TagAsync(string repository, string digest, string tag, CancellationToken cancellationToken)
    {
        _tags[(repository, tag)] = digest;
        Moves.Enqueue((repository, digest, tag));
        return Task.CompletedTask;
    }
}

/// <summary>Minimal OCI images pushed to a real registry: digests that exist without a Docker build.</summary>
internal static class TestImages
{
    /// <summary>Pushes the image under <paramref name="tag"/>; <paramref name="content"/> makes its digest distinct. Returns the manifest digest.</summary>
    public static Task<string> PushAsync(string registry, string path, string tag, string content, CancellationToken cancellationToken) =>
        RegistryImages.PushAsync(registry, path, tag, new Dictionary<string, string> { ["c"] = content }, cancellationToken);
}

/// <summary>A namespace on the shared fake API server with Deployments to deploy, break and roll back.</summary>
internal sealed class ReleaseTestBed(FakeKubeApiFixture fixture, string ns) : IDisposable
{
    public static readonly RolloutWaitOptions Fast = new() { PodCheckInterval = TimeSpan.FromMilliseconds(200), RetryDelay = TimeSpan.FromMilliseconds(100), MaxAttempts = 3 };

    public const string Repo = "registry.test/app";

    public static string Digest(char c) => "sha256:" + new string(c, 64);

    public static string Image(char c, string repo = Repo) => $"{repo}@{Digest(c)}";

    public static async Task<ReleaseTestBed> CreateAsync(FakeKubeApiFixture fixture, string prefix = "rel") =>
        new(fixture, await fixture.NewNamespaceAsync(prefix));

    public string Namespace => ns;

    public FakeKubeApi Fake => fixture.Api;

    public KubeCluster Cluster { get; } = new(fixture.Api.CreateClient(), "fake");

    public ObjectRef Ref(string name) => new("Deployment", ns, name);

    public KubeObject Deployment(string name, params (string Container, string Image)[] containers) => new(new JsonObject
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["spec"] = new JsonObject
        {
            ["replicas"] = 1,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray([.. containers.Select(c => (JsonNode)new JsonObject { ["name"] = c.Container, ["image"] = c.Image })]) },
            },
        },
    });

    public async Task ApplyAsync(params KubeObject[] objects)
    {
        var applier = new ManifestApplier(Cluster, KubeFixtures.Logger);
        await applier.ApplyAsync(await applier.PlanAsync(objects, new ApplyOptions(), TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
    }

    public Task<RolloutWaitReport> WaitAsync(params string[] names) =>
        new RolloutWaiter(Cluster, KubeFixtures.Logger).WaitAsync([.. names.Select(n => new RolloutTarget(Ref(n)))], Fast, TestContext.Current.CancellationToken);

    public async Task<IReadOnlyDictionary<string, string>> ImagesAsync(string name) =>
        (await new WorkloadSnapshot(Cluster).CaptureAsync([Ref(name)], TestContext.Current.CancellationToken))[0].Images;

    public void Dispose() => Cluster.Dispose();
}
