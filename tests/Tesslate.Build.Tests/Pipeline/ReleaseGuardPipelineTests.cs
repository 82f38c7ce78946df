using System.Text.Json.Nodes;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>
/// A release that cannot break a running environment, through the real pipeline: the fake API server is seeded with
/// the project's local overlay as client-side `kubectl apply` leaves objects (the way beta and production were
/// deployed), then Deploy runs with manifests that change a selector, swap a claim, or drop an environment variable.
/// </summary>
[Collection(RepositoryCopy.CatalogRepositories)]
public sealed class ReleaseGuardPipelineTests(RegistryFixture registry) : IAsyncLifetime
{
    private LocalRelease _env = null!;
    private Dictionary<string, string> _digests = [];

    public async ValueTask InitializeAsync()
    {
        _env = await LocalRelease.StartAsync(registry.Address);
        _digests = await _env.PushWorkloadImagesAsync("v1");
        // Images no release builds: the live runtime-images ConfigMap names them by digest, as the release pins them.
        foreach (var image in new[] { "markitdown", "deerflow" })
            _digests[image] = await _env.TagLocalAsync(image);
    }

    public ValueTask DisposeAsync() => _env.DisposeAsync();

    private IReadOnlyDictionary<string, string> Built => _digests.Where(d => d.Key is not ("markitdown" or "deerflow")).ToDictionary();

    /// <summary>Changes that reached the cluster other than the deploy lock and the release history.</summary>
    private List<RecordedRequest> AppliedChanges() =>
        [.. _env.Fake.Mutations.Where(m => !m.Path.Contains("/leases", StringComparison.Ordinal) && !m.Path.EndsWith("/configmaps/tesslate-deploy-history", StringComparison.Ordinal)
            && !(m.Method == "POST" && m.Path.EndsWith("/configmaps", StringComparison.Ordinal)))];

    private async Task<KubeObject> FirstDeploymentAsync(Func<KubeObject, bool>? where = null) =>
        (await _env.RenderAsync()).First(o => o.Kind == "Deployment" && (where?.Invoke(o) ?? true));

    [Fact]
    public async Task A_release_that_changes_a_selector_stops_before_applying_naming_the_object_the_field_both_values_and_the_fix()
    {
        await _env.SeedAsKubectlApplyAsync(_digests);
        var deployment = await FirstDeploymentAsync();
        _env.WrapLocalOverlay([$$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {{deployment.Name}}
              namespace: {{deployment.Namespace}}
            spec:
              selector:
                matchLabels:
                  tier: guarded
              template:
                metadata:
                  labels:
                    tier: guarded
            """]);
        _env.Fake.ClearRequests();

        var (exitCode, output) = await _env.DeployAsync(Built);

        Assert.True(exitCode == 1, output);
        var plan = output[output.IndexOf("Release plan for local:", StringComparison.Ordinal)..];
        Assert.Matches($@"refused +Deployment/{deployment.Namespace}/{deployment.Name} spec\.selector: \{{""matchLabels"":\{{.*\}}\}} → \{{""matchLabels"":\{{.*""tier"":""guarded"".*\}}\}}", plan);
        Assert.Contains("fix", plan);
        Assert.Contains("keep the live selector", output);
        Assert.Contains("The release would break the running environment, so nothing was applied", output);
        Assert.Empty(AppliedChanges());
        var live = _env.Get(KubeResources.Deployments, deployment.Namespace, deployment.Name)!;
        Assert.Null(live["spec"]!["selector"]!["matchLabels"]!["tier"]);
    }

    [Fact]
    public async Task A_release_that_swaps_a_workloads_claim_stops_and_passes_with_allow_volume_change()
    {
        await _env.SeedAsKubectlApplyAsync(_digests);
        var rendered = await _env.RenderAsync();
        var workload = await FirstDeploymentAsync(o => ReleaseGuard.DataMounts(o.Body).Values.Any(v => v.StartsWith("PVC ", StringComparison.Ordinal)));
        var volume = PodTemplates.PodSpec(workload)!["volumes"]!.AsArray().First(v => v!["persistentVolumeClaim"] is not null)!;
        var claim = (string)volume["persistentVolumeClaim"]!["claimName"]!;
        var claimObject = rendered.Single(o => o.Kind == "PersistentVolumeClaim" && o.Name == claim).Clone();
        claimObject.Body["metadata"] = new JsonObject { ["name"] = claim + "-v2", ["namespace"] = workload.Namespace };
        _env.WrapLocalOverlay([$$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {{workload.Name}}
              namespace: {{workload.Namespace}}
            spec:
              template:
                spec:
                  volumes:
                    - name: {{(string)volume["name"]!}}
                      persistentVolumeClaim:
                        claimName: {{claim}}-v2
            """], [claimObject.ToJson()]);
        _env.Fake.ClearRequests();

        var (exitCode, output) = await _env.DeployAsync(Built);

        Assert.True(exitCode == 1, output);
        Assert.Contains($"Deployment/{workload.Namespace}/{workload.Name} container", output);
        Assert.Contains($"PVC {claim} → PVC {claim}-v2", output);
        Assert.Contains($"--allow-volume-change Deployment/{workload.Name}", output);
        Assert.Empty(AppliedChanges());

        (exitCode, output) = await _env.DeployAsync(Built, "--allow-volume-change", $"Deployment/{workload.Name}");

        Assert.True(exitCode == 0, output);
        var plan = output[output.IndexOf("Release plan for local:", StringComparison.Ordinal)..];
        Assert.Contains($"(allowed by --allow-volume-change Deployment/{workload.Name})", plan.Split('\n')[1]);
        var live = _env.Get(KubeResources.Deployments, workload.Namespace, workload.Name)!;
        Assert.Contains(live["spec"]!["template"]!["spec"]!["volumes"]!.AsArray(), v => (string?)v!["persistentVolumeClaim"]?["claimName"] == claim + "-v2");
        var release = _env.History()[^1]!;
        Assert.Equal("Succeeded", (string?)release["outcome"]);
        Assert.Contains(release["allowedVolumeChanges"]!.AsArray(), c => ((string?)c)!.Contains($"PVC {claim} → PVC {claim}-v2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task After_a_takeover_from_client_side_apply_an_env_variable_removed_from_the_manifests_is_removed_and_the_takeover_itself_changed_no_pod_template()
    {
        var backend = await FirstDeploymentAsync(o => o.Name == "tesslate-backend");
        var container = (string)PodTemplates.PodSpec(backend)!["containers"]![0]!["name"]!;
        var probe = $$"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: tesslate-backend
              namespace: {{backend.Namespace}}
            spec:
              template:
                spec:
                  containers:
                    - name: {{container}}
                      env:
                        - name: TAKEOVER_PROBE
                          value: "legacy"
            """;
        _env.WrapLocalOverlay([probe]);
        await _env.SeedAsKubectlApplyAsync(_digests);
        var templates = _env.Templates();

        // The dry run shows the takeover in the release it would record.
        var (exitCode, output) = await _env.DeployAsync(Built, "--dry-run");

        Assert.True(exitCode == 0, output);
        Assert.Contains($"takes over Deployment/{backend.Namespace}/tesslate-backend from {FakeKubeApi.ClientSideApplyManager}", output);

        // The takeover: the same manifests, applied by this pipeline for the first time.
        (exitCode, output) = await _env.DeployAsync(Built);

        Assert.True(exitCode == 0, output);
        var after = _env.Templates();
        var changed = templates.Where(t => after.GetValueOrDefault(t.Key) != t.Value).Select(t => $"{t.Key}:\n  before {t.Value}\n  after  {after.GetValueOrDefault(t.Key)}").ToList();
        Assert.True(changed.Count == 0, "the takeover changed pod templates:\n" + string.Join("\n", changed));
        var live = _env.Get(KubeResources.Deployments, backend.Namespace, "tesslate-backend")!;
        Assert.DoesNotContain(live["metadata"]!["managedFields"]!.AsArray(), m => (string?)m!["manager"] == FakeKubeApi.ClientSideApplyManager);
        Assert.Contains(live["metadata"]!["managedFields"]!.AsArray(), m => (string?)m!["manager"] == "tesslate-build" && (string?)m["operation"] == "Apply");
        Assert.Null(live["metadata"]!["annotations"]?[FakeKubeApi.LastAppliedAnnotation]);
        var takenOver = _env.History()[^1]!["takenOver"]!.AsArray().Select(t => (string)t!).ToList();
        Assert.Contains(takenOver, t => t.StartsWith($"Deployment/{backend.Namespace}/tesslate-backend from {FakeKubeApi.ClientSideApplyManager}", StringComparison.Ordinal));
        Assert.Contains("took over the fields of kubectl-client-side-apply", output);

        // Once per object: the next release takes nothing over; the variable the manifests drop goes.
        _env.WrapLocalOverlay([]);
        (exitCode, output) = await _env.DeployAsync(Built);

        Assert.True(exitCode == 0, output);
        live = _env.Get(KubeResources.Deployments, backend.Namespace, "tesslate-backend")!;
        var env = live["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Single(c => (string?)c!["name"] == container)!["env"]?.AsArray() ?? [];
        Assert.DoesNotContain(env, e => (string?)e!["name"] == "TAKEOVER_PROBE");
        Assert.NotEmpty(env);
        Assert.Null(_env.History()[^1]!["takenOver"]);
        Assert.DoesNotContain("took over the fields", output);
    }
}
