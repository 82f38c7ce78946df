using System.Text.Json.Nodes;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>
/// The real pipeline, in-process, against the fake API server and the real registry: Deploy with a build report (as the
/// CI deploy job does, --skip BuildImages) of small images pushed here, then --rollback-on-failure and the Rollback
/// target. Where each pin comes from is checked on the way: the build report, the live objects, the environment tag.
/// </summary>
/// <remarks>A registry of its own: "nothing anywhere" below means no `local` tag of deerflow, which other tests push.</remarks>
public sealed class ReleasePipelineTests(PrivateRegistryFixture registry) : IAsyncLifetime, IClassFixture<PrivateRegistryFixture>
{
    private const string Context = "tesslate-fake";
    private const string Namespace = "tesslate";

    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly string _root = RepositoryCopy.Create();
    private readonly string _work = Directory.CreateTempSubdirectory("tesslate-release-").FullName;
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private FakeKubeApi _fake = null!;
    private string _kubeconfig = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { DefaultRolloutDuration = TimeSpan.FromSeconds(1) }, Ct);
        _fake.Exec.Respond("python -m scripts.seed_apps", 0, "seeded");
        _kubeconfig = FakeKubeconfig.Write(_work, _fake.Url, Context);
    }

    /// <summary>A distinct image of the catalog repository tesslate-<paramref name="name"/>, under an immutable tag.</summary>
    private Task<string> PushAsync(string name, string version) =>
        TestImages.PushAsync(registry.Address, $"tesslate-{name}", $"git-{_run}{version}", $"{_run} {name} {version}", Ct);

    private string Reference(string name, string digest) => $"{registry.Address}/tesslate-{name}@{digest}";

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) =>
        PipelineRun.RunAsync(
            [.. args, "--environment", "local", "--kube-context", Context, "--source-root", _app.Root, "--registry", registry.Address],
            new Dictionary<string, string> { ["KUBECONFIG"] = _kubeconfig, ["TESSLATE_GIT_ALLOW_FILE_PROTOCOL"] = "1" },
            _root);

    /// <summary>Deploy exactly these images (catalog name → digest), as a CI deploy job does after its build job.</summary>
    private Task<(int ExitCode, string Output)> DeployAsync(IReadOnlyDictionary<string, string> built, params string[] extra)
    {
        var path = Path.Combine(_work, $"build-report-{Guid.NewGuid():N}.json");
        new BuildReport
        {
            Registry = registry.Address,
            Environment = "local",
            Images = [.. built.Select(b => new ImageReport { Name = b.Key, Registry = registry.Address, Repository = $"tesslate-{b.Key}", Digest = b.Value, Outcome = ImageOutcome.Built })],
        }.Write(path);
        return RunAsync(["Deploy", "--build-report", path, "--skip", "BuildImages", .. extra]);
    }

    private sealed record Releases(IReadOnlyDictionary<string, string> V1, IReadOnlyDictionary<string, string> V2, string MarkitdownTagged, string AstTagged, string DevserverTagged);

    /// <summary>
    /// Release 1: every workload image and the devserver from the build report, markitdown only through its `local`
    /// tag. Then `local` tags moved elsewhere (ast, devserver), and release 2 builds only backend and frontend.
    /// </summary>
    private async Task<Releases> TwoReleasesAsync()
    {
        var v1 = new Dictionary<string, string>();
        foreach (var name in new[] { "backend", "frontend", "ast", "marketplace", "devserver" })
            v1[name] = await PushAsync(name, "v1");
        var markitdown = await TestImages.PushAsync(registry.Address, "tesslate-markitdown", "local", $"{_run} markitdown", Ct);
        var (exitCode, output) = await DeployAsync(v1);
        Assert.True(exitCode == 0, output);

        // Tags that must not win over what runs: a deploy that does not build ast or devserver keeps their live digests.
        var ast = await TestImages.PushAsync(registry.Address, "tesslate-ast", "local", $"{_run} ast stray", Ct);
        var devserver = await TestImages.PushAsync(registry.Address, "tesslate-devserver", "local", $"{_run} devserver stray", Ct);
        var v2 = new Dictionary<string, string> { ["backend"] = await PushAsync("backend", "v2"), ["frontend"] = await PushAsync("frontend", "v2") };
        (exitCode, output) = await DeployAsync(v2);
        Assert.True(exitCode == 0, output);
        // The summary says which tags moved to which digests (not a record dump).
        Assert.Contains($"tags moved: {registry.Address}/tesslate-ast:local → {v1["ast"][..19]} (was ", output);
        Assert.DoesNotContain("PromotionResult", output);
        return new Releases(v1, v2, markitdown, ast, devserver);
    }

    private Dictionary<string, string> Images(string deployment) =>
        (_fake.Store.Get(KubeResources.Deployments, Namespace, deployment)!["spec"]!["template"]!["spec"]!["containers"]!.AsArray())
            .ToDictionary(c => (string)c!["name"]!, c => (string)c!["image"]!);

    private string RuntimeImage(string key) =>
        (string)_fake.Store.Get(KubeResources.Get("", "configmaps"), Namespace, "tesslate-runtime-images")!["data"]![key]!;

    private JsonArray History() =>
        JsonNode.Parse((string)_fake.Store.Get(KubeResources.Get("", "configmaps"), Namespace, "tesslate-deploy-history")!["data"]!["releases.json"]!)!.AsArray();

    private async Task<string?> TagAsync(string name, string tag)
    {
        using var client = new RegistryClient(registry.Address);
        return await client.GetDigestAsync($"tesslate-{name}", tag, Ct);
    }

    [Fact]
    public async Task An_API_server_that_dies_mid_apply_is_named_with_the_object_being_applied_and_what_was_applied_before_it()
    {
        var images = new Dictionary<string, string>();
        foreach (var name in new[] { "backend", "frontend", "ast", "marketplace", "devserver" })
            images[name] = await PushAsync(name, "v1");
        // A first deploy (no namespace yet, so no lease): the API server dies at the sixth change (connections reset).
        _fake.BeginOutageAfterMutations(5, OutageMode.Reset);

        var (exitCode, output) = await DeployAsync(images);

        Assert.True(exitCode == 1, output);
        Assert.Contains($"ClusterUnreachable: the cluster {Context} ({_fake.Url}) stopped answering while applying ", output);
        Assert.Matches(@"Applied before it \(\d+\): Namespace/tesslate, [^.]+\. Not applied \(\d+, from ", output);
        Assert.DoesNotContain("HttpRequestException", output);
        Assert.DoesNotContain("(a bug in the build", output);
    }

    [Fact]
    public async Task Pins_come_from_the_build_report_then_the_live_objects_then_the_environment_tag()
    {
        var releases = await TwoReleasesAsync();

        // Build report.
        Assert.Contains(Reference("backend", releases.V2["backend"]), Images("tesslate-backend").Values);
        Assert.Contains(Reference("frontend", releases.V2["frontend"]), Images("tesslate-frontend").Values);
        // Live objects, not the `local` tag that was moved elsewhere: a container (ast) and the runtime-images ConfigMap (devserver).
        Assert.Contains(Reference("ast", releases.V1["ast"]), Images("tesslate-backend").Values);
        Assert.Equal(Reference("devserver", releases.V1["devserver"]), RuntimeImage("devserver"));
        // The environment tag, for an image never built and not yet named by a digest.
        Assert.Equal(Reference("markitdown", releases.MarkitdownTagged), RuntimeImage("markitdown"));
        // Nothing anywhere (local): a warning, and the tag stays.
        Assert.Equal($"{registry.Address}/tesslate-deerflow:local", RuntimeImage("deerflow"));
        // Promotion moved `local` back to what runs, the runtime images included.
        Assert.Equal(releases.V1["devserver"], await TagAsync("devserver", "local"));
        Assert.Equal(releases.V1["ast"], await TagAsync("ast", "local"));
        Assert.Equal(releases.V2["backend"], await TagAsync("backend", "local"));
    }

    [Fact]
    public async Task A_failed_rollout_with_rollback_on_failure_restores_the_previous_digests_and_records_the_release_as_rolled_back()
    {
        var v1 = new Dictionary<string, string>();
        foreach (var name in new[] { "backend", "frontend", "ast", "marketplace", "devserver" })
            v1[name] = await PushAsync(name, "v1");
        var (exitCode, output) = await DeployAsync(v1);
        Assert.True(exitCode == 0, output);

        // The new backend crashes; its previous image (restored by the rollback's patch) starts fine.
        var broken = new Dictionary<string, string>(v1) { ["backend"] = await PushAsync("backend", "broken"), ["devserver"] = await PushAsync("devserver", "v2") };
        _fake.Faults.Inject(Namespace, "tesslate-backend", PodFault.CrashLoop(1, ["ImportError: boom"]));
        _fake.ClearRequests();
        var healed = HealWhenPatchedAsync("tesslate-backend");
        (exitCode, output) = await DeployAsync(broken, "--rollback-on-failure");
        await healed;

        Assert.NotEqual(0, exitCode);
        Assert.Contains("ImportError: boom", output);
        Assert.Equal(Reference("backend", v1["backend"]), Images("tesslate-backend")["backend"]);
        Assert.Equal(Reference("devserver", v1["devserver"]), RuntimeImage("devserver"));
        var newest = History()[^1]!;
        Assert.Equal("RolledBack", (string?)newest["outcome"]);
        var backend = newest["workloads"]!.AsArray().Single(w => (string?)w!["workload"]!["name"] == "tesslate-backend")!;
        Assert.Equal(Reference("backend", v1["backend"]), (string?)backend["imagesAfter"]!["backend"]);
        Assert.Equal(v1["backend"], await TagAsync("backend", "local"));
        Assert.Equal(v1["devserver"], await TagAsync("devserver", "local"));
    }

    [Fact]
    public async Task Rollback_to_a_release_id_restores_what_that_release_deployed_and_moves_the_tags_back()
    {
        var releases = await TwoReleasesAsync();
        Assert.Equal(2, History().Count);

        var (exitCode, output) = await RunAsync("Rollback", "--release", "1");

        Assert.True(exitCode == 0, output);
        Assert.Equal(Reference("backend", releases.V1["backend"]), Images("tesslate-backend")["backend"]);
        Assert.Equal(Reference("frontend", releases.V1["frontend"]), Images("tesslate-frontend")["frontend"]);
        var newest = History()[^1]!;
        Assert.Equal(("Rollback", "Succeeded", "1"), ((string?)newest["kind"], (string?)newest["outcome"], (string?)newest["restoredRelease"]));
        Assert.Equal(releases.V1["backend"], await TagAsync("backend", "local"));
        Assert.Equal(releases.V1["frontend"], await TagAsync("frontend", "local"));
    }

    [Fact]
    public async Task Rollback_without_a_release_history_changes_nothing_and_names_the_pipelines_way_back_to_a_tag()
    {
        var (exitCode, output) = await RunAsync("Rollback");

        Assert.True(exitCode != 0, output);
        Assert.Contains("There is no release history to roll back to", output);
        // The pipeline words the fix (the planner names no flag): its --to-tag.
        Assert.Contains("Deploy at least once (each deploy records a release), or roll back to an image tag with --to-tag git-<sha>.", output);
        Assert.DoesNotContain(_fake.Mutations, m => !m.Path.Contains("/leases", StringComparison.Ordinal) && !m.Path.EndsWith("/selfsubjectaccessreviews", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rollback_of_some_workloads_restores_only_those()
    {
        var releases = await TwoReleasesAsync();

        var (exitCode, output) = await RunAsync("Rollback", "--workloads", "frontend");

        Assert.True(exitCode == 0, output);
        Assert.Equal(Reference("frontend", releases.V1["frontend"]), Images("tesslate-frontend")["frontend"]);
        Assert.Equal(Reference("backend", releases.V2["backend"]), Images("tesslate-backend")["backend"]);
        var restored = History()[^1]!["workloads"]!.AsArray().Select(w => (string?)w!["workload"]!["name"]);
        Assert.Equal(["tesslate-frontend"], restored);
        Assert.Equal(releases.V1["frontend"], await TagAsync("frontend", "local"));
        Assert.Equal(releases.V2["backend"], await TagAsync("backend", "local"));
    }

    /// <summary>The broken image's fault goes with it: cleared as soon as the rollback patches the workload's images.</summary>
    private Task HealWhenPatchedAsync(string deployment) => Task.Run(async () =>
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < deadline && !_fake.Mutations.Any(m => m.Path.EndsWith($"/deployments/{deployment}", StringComparison.Ordinal)
            && m.ContentType?.Contains("strategic-merge-patch", StringComparison.Ordinal) == true))
            await Task.Delay(10, Ct);
        _fake.Faults.Clear(Namespace, deployment);
    }, Ct);

    public async ValueTask DisposeAsync()
    {
        await _fake.DisposeAsync();
        _app.Dispose();
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_work, recursive: true);
    }
}
