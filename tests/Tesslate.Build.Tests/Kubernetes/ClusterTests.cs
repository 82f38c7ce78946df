#if FAKE_KUBE_API
using System.Text.Json.Nodes;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

/// <summary>
/// The adapter against the fake API server (no real API server runs here), with manifests rendered by the real
/// <c>kubectl kustomize</c> from the overlay fixture. Each test gets its own in-process fake (milliseconds to start).
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    internal const string Backend = "registry.test:5000/tesslate-backend";
    internal const string Devserver = "registry.test:5000/tesslate-devserver";
    internal const string Csi = "registry.test:5000/tesslate-btrfs-csi";

    private FakeKubeApi _fake = null!;
    private KubeCluster _cluster = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { DefaultRolloutDuration = TimeSpan.FromMilliseconds(300) }, Ct);
        _cluster = new KubeCluster(_fake.CreateClient(), "fake");
    }

    public async ValueTask DisposeAsync()
    {
        _cluster.Dispose();
        await _fake.DisposeAsync();
    }

    internal static string Digest(char c) => "sha256:" + new string(c, 64);

    internal static Dictionary<string, string> Pins(char backend = 'b', char devserver = 'd', char csi = 'c') => new()
    {
        [Backend] = $"{Backend}@{Digest(backend)}",
        [Devserver] = $"{Devserver}@{Digest(devserver)}",
        [Csi] = $"{Csi}@{Digest(csi)}",
    };

    private static async Task<IReadOnlyList<KubeObject>> PinnedOverlayAsync(Dictionary<string, string> pins) =>
        DigestPinning.Pin(await KubeFixtures.RenderFixtureAsync(), pins, [new ObjectRef("ConfigMap", "tesslate", "tesslate-runtime-images")], ["K8S_DEVSERVER_IMAGE"]).Objects;

    private async Task<ApplyReport> ApplyAsync(IReadOnlyList<KubeObject> objects, ApplyOptions? options = null)
    {
        var applier = new ManifestApplier(_cluster, KubeFixtures.Logger);
        return await applier.ApplyAsync(await applier.PlanAsync(objects, options ?? new ApplyOptions(), Ct), Ct);
    }

    [Fact]
    public async Task A_full_apply_creates_everything_in_dependency_order_and_a_second_apply_changes_nothing()
    {
        var objects = await PinnedOverlayAsync(Pins());
        var first = await ApplyAsync(objects);
        Assert.Equal(objects.Count, first.Count(ApplyOutcome.Created));
        var applied = _fake.Mutations.Where(m => m.Method == "PATCH").ToList();
        Assert.All(applied, m => Assert.Equal("tesslate-build", m.FieldManager));
        Assert.All(applied, m => Assert.StartsWith("application/apply-patch+yaml", m.ContentType));
        var kindsInOrder = applied.Select(m => m.Path.Split('/')[^2]).ToList();
        Assert.Equal("namespaces", kindsInOrder[0]);
        Assert.True(kindsInOrder.IndexOf("configmaps") < kindsInOrder.IndexOf("services"));
        Assert.True(kindsInOrder.LastIndexOf("services") < kindsInOrder.IndexOf("deployments"));
        Assert.True(kindsInOrder.LastIndexOf("rolebindings") < kindsInOrder.IndexOf("configmaps"));

        var second = await ApplyAsync(await PinnedOverlayAsync(Pins()));
        Assert.Equal(objects.Count, second.Count(ApplyOutcome.Unchanged));
        Assert.Empty(second.RolledWorkloads);
    }

    [Fact]
    public async Task A_new_digest_rolls_exactly_the_workloads_that_use_the_image_and_a_reused_digest_rolls_nothing()
    {
        await ApplyAsync(await PinnedOverlayAsync(Pins()));
        // backend rebuilt (new digest); devserver and csi reused (same digest).
        var report = await ApplyAsync(await PinnedOverlayAsync(Pins(backend: 'e')));
        Assert.Equal(
            ["Deployment/tesslate/tesslate-backend", "Deployment/tesslate/tesslate-gateway", "Deployment/tesslate/tesslate-worker"],
            report.RolledWorkloads.Select(r => r.ToString()).Order());
        Assert.Equal(ApplyOutcome.Configured, report.Objects.Single(o => o.Object.Name == "snapshot-cleanup").Outcome);
        Assert.Equal(ApplyOutcome.Unchanged, report.Objects.Single(o => o.Object.Name == "tesslate-volume-hub").Outcome);
    }

    [Fact]
    public async Task Objects_owned_elsewhere_are_never_applied()
    {
        var excluded = new ObjectRef("ServiceAccount", "tesslate", "tesslate-backend-sa");
        var report = await ApplyAsync(await PinnedOverlayAsync(Pins()), new ApplyOptions { Excluded = [excluded] });
        Assert.Equal(ApplyOutcome.Skipped, report.Objects.Single(o => o.Object == excluded).Outcome);
        Assert.DoesNotContain(_fake.Requests, r => r.Path.Contains("serviceaccounts/tesslate-backend-sa", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_kind_is_named_and_nothing_is_applied()
    {
        var objects = (await PinnedOverlayAsync(Pins())).Append(new KubeObject(new JsonObject
        {
            ["apiVersion"] = "widgets.example.com/v1",
            ["kind"] = "Widget",
            ["metadata"] = new JsonObject { ["name"] = "w", ["namespace"] = "tesslate" },
        })).ToList();
        var e = await Assert.ThrowsAsync<BuildFailure>(() => ApplyAsync(objects));
        Assert.Contains("Widget w (widgets.example.com/v1)", e.Problem);
        Assert.Empty(_fake.Mutations);
    }

    [Fact]
    public async Task The_permission_preflight_lists_every_missing_permission_before_anything_is_applied()
    {
        _fake.Access.Deny("patch", "deployments", "tesslate", "apps");
        _fake.Access.Deny("create", "daemonsets", "kube-system", "apps");
        var applier = new ManifestApplier(_cluster, KubeFixtures.Logger);
        var plan = await applier.PlanAsync(await PinnedOverlayAsync(Pins()), new ApplyOptions(), Ct);
        var requirements = PermissionPreflight.ForApply(plan).Concat([new PermissionRequirement("create", "", "pods", "tesslate", "exec")]);
        _fake.Access.Deny("create", "pods", "tesslate", "", "exec");
        var e = await Assert.ThrowsAsync<BuildFailure>(() => PermissionPreflight.EnsureAsync(_cluster, requirements, "Use the admin role.", Ct));
        Assert.Contains("patch deployments.apps in namespace tesslate", e.Problem);
        Assert.Contains("create daemonsets.apps in namespace kube-system", e.Problem);
        Assert.Contains("create pods/exec in namespace tesslate", e.Problem);
        Assert.Contains("3 permission(s)", e.Problem);
        Assert.Equal("Use the admin role.", e.Fix);
        Assert.Empty(_fake.Mutations);
    }

    [Fact]
    public async Task A_dry_run_changes_nothing_and_shows_each_objects_server_side_diff()
    {
        var dry = await ApplyAsync(await PinnedOverlayAsync(Pins()), new ApplyOptions { DryRun = true });
        Assert.All(dry.Objects, o => Assert.Equal(ApplyOutcome.Created, o.Outcome));
        Assert.Empty(_fake.Mutations);
        Assert.All(_fake.Requests.Where(r => r.Method == "PATCH"), r => Assert.True(r.DryRun));

        await ApplyAsync(await PinnedOverlayAsync(Pins()));
        var diff = await ApplyAsync(await PinnedOverlayAsync(Pins(backend: 'f')), new ApplyOptions { DryRun = true });
        var worker = diff.Objects.Single(o => o.Object.Name == "tesslate-worker");
        Assert.Equal(ApplyOutcome.Configured, worker.Outcome);
        Assert.Contains(worker.Diff, l => l.Contains("spec.template.spec.containers[0].image", StringComparison.Ordinal) && l.Contains(Digest('f'), StringComparison.Ordinal));
        Assert.Equal(ApplyOutcome.Unchanged, diff.Objects.Single(o => o.Object.Name == "tesslate-frontend").Outcome);
    }

    [Fact]
    public async Task A_workload_is_restarted_at_most_once_per_run_and_not_when_the_apply_already_rolled_it()
    {
        await ApplyAsync(await PinnedOverlayAsync(Pins()));
        var report = await ApplyAsync(await PinnedOverlayAsync(Pins(backend: 'e')));
        var restarter = new RolloutRestarter(_cluster, KubeFixtures.Logger);
        restarter.MarkRolled(report.RolledWorkloads);
        _fake.ClearRequests();

        var worker = new ObjectRef("Deployment", "tesslate", "tesslate-worker");
        var redis = new ObjectRef("Deployment", "tesslate", "redis");
        Assert.Equal(RestartOutcome.AlreadyRolled, await restarter.RestartAsync(worker, Ct));
        Assert.Equal(RestartOutcome.Restarted, await restarter.RestartAsync(redis, Ct));
        Assert.Equal(RestartOutcome.AlreadyRolled, await restarter.RestartAsync(redis with { Kind = "deployment" }, Ct));

        var patch = Assert.Single(_fake.Mutations);
        Assert.StartsWith("application/strategic-merge-patch+json", patch.ContentType);
        Assert.EndsWith("/deployments/redis", patch.Path);
        var live = await _cluster.GetAsync(await _cluster.RequireAsync("apps/v1", "Deployment", Ct), "tesslate", "redis", Ct);
        Assert.NotNull(live!["spec"]!["template"]!["metadata"]!["annotations"]![RolloutRestarter.RestartedAtAnnotation]);
    }

    [Fact]
    public async Task A_zero_rollout_timeout_is_a_usage_error()
    {
        var waiter = new RolloutWaiter(_cluster, KubeFixtures.Logger);
        await Assert.ThrowsAsync<UsageException>(() => waiter.WaitAsync(
            [new RolloutTarget(new ObjectRef("Deployment", "tesslate", "x"))], new RolloutWaitOptions { DeadlineOverride = TimeSpan.Zero }, Ct));
    }
}
#endif
