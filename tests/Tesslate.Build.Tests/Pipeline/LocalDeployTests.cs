using System.Text.Json.Nodes;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>
/// The real pipeline, in-process, for <c>Deploy --environment local</c>: the fixture application built by the real
/// Docker engine into the real registry, the local overlay applied to the fake Kubernetes API server through a
/// kubeconfig context, rollouts awaited, the <c>local</c> tag promoted; then a second Deploy that changes nothing.
/// </summary>
[Collection(RepositoryCopy.CatalogRepositories)]
public sealed class LocalDeployTests(DockerEngineFixture engine, RegistryFixture registry) : IDisposable
{
    private const string Context = "tesslate-fake";
    private const string Namespace = "tesslate";

    // Every catalog image a workload of the local overlay runs, so that every container gets a digest.
    private static readonly string[] WorkloadImages = ["backend", "ast", "frontend", "marketplace"];

    // Plus the devserver, which no container runs: the backend starts it, named by the runtime-images ConfigMap.
    private static readonly string[] Images = [.. WorkloadImages, "devserver"];

    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly string _root = RepositoryCopy.Create();
    private readonly string _kube = Directory.CreateTempSubdirectory("tesslate-kube-").FullName;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Deploy_local_builds_pins_applies_rolls_out_seeds_promotes_records_and_a_second_run_changes_nothing()
    {
        await using var fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { DefaultRolloutDuration = TimeSpan.FromSeconds(1) });
        var kubeconfig = FakeKubeconfig.Write(_kube, fake.Url, Context);
        var kubeconfigBefore = await File.ReadAllTextAsync(kubeconfig, Token);
        fake.Exec.Respond("python -m scripts.seed_apps", 0, "seeded 10 apps");

        using var client = new RegistryClient(registry.Address);
        // Other tests of the shared registry may have given these a `local` tag (images no release of theirs builds).
        var markitdownTagged = await client.GetDigestAsync("tesslate-markitdown", "local", Token);
        var deerflowTagged = await client.GetDigestAsync("tesslate-deerflow", "local", Token);

        // First release: everything is new, even in a registry other tests pushed the fixture's images to.
        foreach (var dockerfile in ImageCatalog.Load(Path.Combine(_root, "images")).Select(Images).Select(i => i.Dockerfile).Distinct())
            _app.Write(dockerfile, await File.ReadAllTextAsync(Path.Combine(_app.Root, dockerfile), Token) + $"\n# {Guid.NewGuid():N}\n");
        _app.Commit("new fingerprints");
        var (exitCode, output) = await DeployAsync(kubeconfig);
        Assert.True(exitCode == 0, output);
        Assert.Null(fake.ControllerError);

        var buildReport = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_root, ".nuke", "temp", "build-report.json"), Token))!;
        var images = buildReport["images"]!.AsArray().Select(i => i!).ToList();
        Assert.Equal(Images.Order(), images.Select(i => (string)i["name"]!).Order());
        var digests = images.ToDictionary(i => (string)i["repository"]!, i => (string)i["digest"]!);

        // One release plan, before anything was pushed: every image to be built (its fingerprint is new), the cluster not
        // compared while images are still to be built.
        foreach (var image in Images)
            Assert.Matches("[0-9a-f]{12}  build \\(not in the registry\\)$", PlanLine(output, $"image {image} "));
        Assert.Contains("not compared: images not yet known", PlanLine(output, "kubernetes "));
        Assert.All(images, i => Assert.Equal("built", (string?)i["outcome"]));
        Assert.All(digests.Values, d => Assert.StartsWith("sha256:", d, StringComparison.Ordinal));

        // Pushed: immutable git- and src- tags, and (after the rollouts) the environment tag on the same digest.
        var revision = "git-" + _app.Head[..12];
        foreach (var (repository, digest) in digests)
        {
            var tags = await client.ListTagsAsync(repository, Token);
            Assert.Contains(revision, tags);
            Assert.Contains(tags, t => t.StartsWith("src-", StringComparison.Ordinal));
            Assert.Equal(digest, await client.GetDigestAsync(repository, revision, Token));
            Assert.Equal(digest, await client.GetDigestAsync(repository, "local", Token));
        }

        // Every catalog-image container in the cluster runs <registry>/<repo>@<the build's digest>: no localhost:5000 left.
        var deployments = fake.Store.List(KubeResources.Deployments, Namespace);
        Assert.NotEmpty(deployments);
        var uses = Tesslate.Build.Kubernetes.WorkloadImages.FromManifests(deployments.Select(d => new KubeObject(AsManifest(d, "Deployment"))));
        Assert.DoesNotContain(uses, u => u.Image.Repository.StartsWith("localhost:5000/", StringComparison.Ordinal));
        var catalogUses = uses.Where(u => u.Image.Repository.StartsWith(registry.Address + "/", StringComparison.Ordinal)).ToList();
        Assert.Equal(WorkloadImages.Order(), catalogUses.Select(u => u.Image.Repository[(registry.Address.Length + 1)..]).Distinct().Select(r => r["tesslate-".Length..]).Order());
        foreach (var use in catalogUses)
        {
            Assert.True(use.Image.Digest is not null && use.Image.Tag is null, $"{use.Workload} {use.Container}: {use.Image}");
            Assert.Equal(digests[use.Image.Repository[(registry.Address.Length + 1)..]], use.Image.Digest);
        }
        var prefix = deployments.SelectMany(d => Containers(d)).SelectMany(c => c["env"]?.AsArray() ?? [])
            .Where(v => (string?)v!["name"] == "APP_IMAGE_REGISTRY_PREFIX").Select(v => (string?)v!["value"]).Distinct().ToList();
        Assert.Equal([registry.Address], prefix);

        // The runtime images: the devserver built in this run is named by its digest (its `local` tag moved there, checked
        // above); deerflow and markitdown, never built, keep their tag without a `local` tag in the registry (local warns
        // instead of stopping), else get the digest that tag names.
        var runtime = RuntimeImages(fake);
        Assert.Equal($"{registry.Address}/tesslate-devserver@{digests["tesslate-devserver"]}", (string?)runtime["devserver"]);
        string Expected(string name, string? tagged) => tagged is null ? $"{registry.Address}/tesslate-{name}:local" : $"{registry.Address}/tesslate-{name}@{tagged}";
        Assert.Equal(Expected("deerflow", deerflowTagged), (string?)runtime["deerflow"]);
        Assert.Equal(Expected("markitdown", markitdownTagged), (string?)runtime["markitdown"]);
        var untagged = new[] { ("deerflow", deerflowTagged), ("markitdown", markitdownTagged) }.Where(t => t.Item2 is null).Select(t => t.Item1).ToList();
        if (untagged.Count > 0)
            Assert.Contains($"No digest for {string.Join(", ", untagged)}", output);
        else
            Assert.DoesNotContain("No digest for", output);
        var firstRelease = Releases(fake)[0]!["workloads"]!.AsArray();
        Assert.Contains(firstRelease, w => ((string?)w!["workload"]?["kind"]) == "ConfigMap");
        Assert.Contains(firstRelease, w => ((string?)w!["workload"]?["kind"]) == "CronJob");

        // Rolled out: the run report lists every Deployment, each complete, and the fake agrees.
        var runReport = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_root, ".nuke", "temp", "run-report.json"), Token))!;
        var rollouts = runReport["sections"]?["rollouts"]?.AsArray() ?? runReport["rollouts"]?.AsArray();
        Assert.True(rollouts is not null, runReport.ToJsonString());
        foreach (var deployment in deployments)
        {
            var name = (string)deployment["metadata"]!["name"]!;
            var rollout = rollouts.SingleOrDefault(r => ((string?)r!["workload"])?.EndsWith("/" + name, StringComparison.Ordinal) == true);
            Assert.True(rollout is not null, $"no rollout for {name}: {rollouts.ToJsonString()}");
            Assert.NotEqual("failed", (string?)rollout["outcome"]);
            var status = deployment["status"]!;
            Assert.Equal(Number(deployment["metadata"]!["generation"]), Number(status["observedGeneration"]));
            Assert.Equal(Number(deployment["spec"]!["replicas"]), Number(status["updatedReplicas"]));
            Assert.Equal(Number(deployment["spec"]!["replicas"]), Number(status["availableReplicas"]));
        }
        Assert.Equal(kubeconfigBefore, await File.ReadAllTextAsync(kubeconfig, Token));

        // Seeded once, in the new backend, after its rollout; the release is in the history; the lock is released.
        Assert.Single(fake.Exec.Invocations, i => string.Join(' ', i.Command) == "python -m scripts.seed_apps");
        Assert.Single(Releases(fake));
        var lease = fake.Store.Get(KubeResources.Get("coordination.k8s.io", "leases"), Namespace, "tesslate-deploy");
        Assert.True(lease is null || lease["spec"]?["holderIdentity"] is null, lease?.ToJsonString());

        // Second release with nothing changed: every image reused, no pod template touched, nothing restarted or awaited.
        var templatesBefore = Templates(fake);
        fake.ClearRequests();
        (exitCode, output) = await DeployAsync(kubeconfig);
        Assert.True(exitCode == 0, output);

        var second = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_root, ".nuke", "temp", "build-report.json"), Token))!;
        Assert.All(second["images"]!.AsArray(), i => Assert.Equal("reused", ((string?)i!["outcome"])?.ToLowerInvariant()));
        Assert.Equal(digests, second["images"]!.AsArray().ToDictionary(i => (string)i!["repository"]!, i => (string)i!["digest"]!));
        Assert.Equal(templatesBefore, Templates(fake));
        Assert.DoesNotContain(fake.Mutations, m => m.Path.Contains("/deployments/", StringComparison.Ordinal) && m.ContentType != "application/apply-patch+yaml");
        var kubernetes = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_root, ".nuke", "temp", "run-report.json"), Token))!["sections"]?["kubernetes"];
        Assert.True(kubernetes is not null, output);

        // The second plan: every image reused under the tag it found, and the server-side diff agrees that nothing changes.
        foreach (var image in second["images"]!.AsArray())
            Assert.EndsWith($"  reuse {"src-" + (string)image!["fingerprint"]!}", PlanLine(output, $"image {(string)image["name"]!} "), StringComparison.Ordinal);
        var objects = kubernetes["objects"]!.AsArray().Count;
        Assert.Matches($"kubernetes +0 created, 0 configured, {objects} unchanged, 0 skipped$", PlanLine(output, "kubernetes "));
        var releasePlan = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_root, ".nuke", "temp", "run-report.json"), Token))!["sections"]!["releasePlan"]!;
        Assert.All(releasePlan["images"]!.AsArray(), i => Assert.Equal("reuse", (string?)i!["action"]));
        Assert.Equal(objects, (int)releasePlan["kubernetes"]!["unchanged"]!);
        Assert.Empty(kubernetes["rolled"]!.AsArray());
        Assert.All(kubernetes["objects"]!.AsArray(), o => Assert.False((bool)o!["podTemplateChanged"]!, o.ToJsonString()));
        Assert.Contains("no workload changed", output);
        Assert.Equal(2, Releases(fake).Count);

        // Both releases name the application commit (the source root's) next to this repository's, and Status shows it.
        var repositoryCommit = FixtureApp.Git(_root, "rev-parse", "HEAD").Trim();
        Assert.All(Releases(fake), r => Assert.Equal((_app.Head, repositoryCommit), ((string?)r!["applicationCommit"], (string?)r["gitSha"])));
        var (statusExit, statusOutput) = await PipelineRun.RunAsync(["Status", "--environment", "local", "--kube-context", Context, "--registry", registry.Address], Environment(kubeconfig), _root);
        Assert.True(statusExit == 0, statusOutput);
        Assert.Matches($"Release: #2 Deploy Succeeded .* at {repositoryCommit[..12]}, application {_app.Head[..12]} ", statusOutput);

        // The same release asked for by ref from a workflow run: the summary and the GitHub deployment (no job deployment
        // exists: the deploy job says deployment: false) name the application commit; the deployment's ref is this repository's.
        await using var github = await GitHub.FakeGitHubApi.StartAsync();
        var summary = Path.Combine(_kube, "step-summary.md");
        var actions = new Dictionary<string, string>(Environment(kubeconfig))
        {
            ["GITHUB_ACTIONS"] = "true",
            ["GITHUB_STEP_SUMMARY"] = summary,
            ["GITHUB_REPOSITORY"] = "acme/tesslate-build",
            ["GITHUB_SHA"] = repositoryCommit,
            ["GITHUB_RUN_ID"] = "42",
            ["GITHUB_SERVER_URL"] = "https://github.example.test",
            ["GITHUB_API_URL"] = github.BaseAddress.ToString(),
            ["GITHUB_TOKEN"] = "ghs_deployJobToken0123456789",
        };
        (exitCode, output) = await PipelineRun.RunAsync([.. DeployArguments(), "--application-ref", "main"], actions, _root);
        Assert.True(exitCode == 0, output);
        Assert.Contains($"<summary>Application commit {_app.Head[..12]}</summary>", await File.ReadAllTextAsync(summary, Token));
        Assert.Contains($"`{_app.Head}`", await File.ReadAllTextAsync(summary, Token));
        var recorded = Assert.Single(github.Deployments("acme", "tesslate-build"));
        Assert.Equal((repositoryCommit, "local"), (recorded.GetProperty("sha").GetString(), recorded.GetProperty("environment").GetString()));
        Assert.Equal(_app.Head, recorded.GetProperty("payload").GetProperty("application_commit").GetString());
        Assert.Contains($"application {_app.Head[..7]}", recorded.GetProperty("description").GetString());
        Assert.Equal(_app.Head, (string?)Releases(fake)[^1]!["applicationCommit"]);

        // A ref the source root is not at stops the run before the lock, the cluster or the registry are touched.
        var first = FixtureApp.Git(_app.Root, "rev-list", "--max-parents=0", "HEAD").Trim();
        fake.ClearRequests();
        (exitCode, output) = await PipelineRun.RunAsync([.. DeployArguments(), "--application-ref", first], Environment(kubeconfig), _root);
        Assert.NotEqual(0, exitCode);
        Assert.Contains($"has {_app.Head[..12]} checked out, but --application-ref '{first}' is {first[..12]}", output);
        Assert.Empty(fake.Mutations);
        Assert.Equal(3, Releases(fake).Count);
    }

    /// <summary>The line of the printed release plan that starts with <paramref name="label"/> (one plan per run).</summary>
    private static string PlanLine(string output, string label)
    {
        var plan = output[output.IndexOf("Release plan for local:", StringComparison.Ordinal)..];
        return plan.Split('\n').First(l => l.Contains("  " + label, StringComparison.Ordinal)).TrimEnd();
    }

    private static JsonObject RuntimeImages(FakeKubeApi fake) =>
        fake.Store.Get(KubeResources.Get("", "configmaps"), Namespace, "tesslate-runtime-images")!["data"]!.AsObject();

    private static JsonArray Releases(FakeKubeApi fake) =>
        JsonNode.Parse((string)fake.Store.Get(KubeResources.Get("", "configmaps"), Namespace, "tesslate-deploy-history")!["data"]!["releases.json"]!)!.AsArray();

    private Task<(int ExitCode, string Output)> DeployAsync(string kubeconfig) =>
        PipelineRun.RunAsync(DeployArguments(), Environment(kubeconfig), _root);

    private string[] DeployArguments() =>
        ["Deploy", "--environment", "local", "--kube-context", Context, "--source-root", _app.Root, "--registry", registry.Address, "--images", string.Join(",", Images)];

    private Dictionary<string, string> Environment(string kubeconfig) => new()
    {
        ["DOCKER_EXE"] = engine.DockerExecutable,
        ["DOCKER_HOST"] = engine.Host,
        ["KUBECONFIG"] = kubeconfig,
        ["TESSLATE_GIT_ALLOW_FILE_PROTOCOL"] = "1",
    };

    private static JsonObject AsManifest(JsonObject stored, string kind)
    {
        var copy = (JsonObject)stored.DeepClone();
        copy["apiVersion"] ??= "apps/v1";
        copy["kind"] ??= kind;
        return copy;
    }

    private static long? Number(JsonNode? node) => node is null ? null : long.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

    private static IEnumerable<JsonObject> Containers(JsonObject deployment) =>
        (deployment["spec"]?["template"]?["spec"]?["containers"]?.AsArray() ?? []).Concat(deployment["spec"]?["template"]?["spec"]?["initContainers"]?.AsArray() ?? []).OfType<JsonObject>();

    private static Dictionary<string, string> Templates(FakeKubeApi fake) =>
        fake.Store.List(KubeResources.Deployments, Namespace).ToDictionary(d => (string)d["metadata"]!["name"]!,
            d => $"generation {Number(d["metadata"]!["generation"])}: {d["spec"]!["template"]!.ToJsonString()}");

    public void Dispose()
    {
        _app.Dispose();
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_kube, recursive: true);
    }
}

/// <summary>A kubeconfig whose current context points elsewhere: a run must use --kube-context and leave the file as it was.</summary>
internal static class FakeKubeconfig
{
    public static string Write(string directory, string url, string context)
    {
        var path = Path.Combine(directory, "config");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: fake
                cluster:
                  server: {url}
              - name: elsewhere
                cluster:
                  server: http://127.0.0.1:1
            users:
              - name: fake-user
                user:
                  token: fake-token
            contexts:
              - name: {context}
                context:
                  cluster: fake
                  user: fake-user
              - name: elsewhere
                context:
                  cluster: elsewhere
                  user: fake-user
            current-context: elsewhere
            """);
        return path;
    }
}
