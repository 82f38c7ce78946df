using k8s;
using k8s.Models;
using Xunit;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>The simulated controllers, driven by a frozen clock the tests advance.</summary>
public sealed class FakeKubeApiRolloutTests(FrozenClockFakeKubeApiFixture fixture) : IClassFixture<FrozenClockFakeKubeApiFixture>
{
    private readonly IKubernetes _client = fixture.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Apply(string kind, string name, string image, int? replicas = null, string extra = "")
    {
        var replicaField = replicas is null ? "" : $"\"replicas\":{replicas},";
        return "{\"apiVersion\":\"apps/v1\",\"kind\":\"" + kind + "\",\"metadata\":{\"name\":\"" + name + "\"},"
            + "\"spec\":{" + replicaField + extra
            + "\"selector\":{\"matchLabels\":{\"app\":\"" + name + "\"}},"
            + "\"template\":{\"metadata\":{\"labels\":{\"app\":\"" + name + "\"}},"
            + "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"" + image + "\"}]}}}}";
    }

    private Task<V1Deployment> ApplyDeployment(string ns, string name, string image, int replicas, string extra = "") =>
        _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(Apply("Deployment", name, image, replicas, extra), V1Patch.PatchType.ApplyPatch), name, ns, fieldManager: "tesslate-build", force: true, cancellationToken: Ct);

    /// <summary>kubectl rollout status's rule for Deployments (reference/peers.md §3).</summary>
    private static bool RolledOut(V1Deployment d) =>
        d.Status?.ObservedGeneration >= d.Metadata.Generation
        && (d.Status.UpdatedReplicas ?? 0) == d.Spec.Replicas
        && (d.Status.Replicas ?? 0) == (d.Status.UpdatedReplicas ?? 0)
        && (d.Status.AvailableReplicas ?? 0) == (d.Status.UpdatedReplicas ?? 0);

    [Fact]
    public async Task A_deployment_rolls_out_through_a_new_replica_set_and_retires_the_old_one()
    {
        var ns = await fixture.NewNamespaceAsync("roll");
        fixture.Api.Simulation.SetRolloutDuration(ns, "web", TimeSpan.FromSeconds(3));
        await ApplyDeployment(ns, "web", "web:1", 3);
        var first = await Poll.AdvanceUntilAsync(fixture.Api, () => _client.AppsV1.ReadNamespacedDeploymentAsync("web", ns, cancellationToken: Ct), RolledOut, "first rollout", TimeSpan.FromSeconds(10));
        Assert.Equal("1", first.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Contains(first.Status.Conditions, c => c.Type == "Progressing" && c.Reason == "NewReplicaSetAvailable");

        var updated = await ApplyDeployment(ns, "web", "web:2", 3);
        Assert.Equal(2, updated.Metadata.Generation);

        // Status moves through the intermediate states kubectl reports, then completes.
        var sawOldPending = false;
        var done = await Poll.AdvanceUntilAsync(fixture.Api, async () =>
        {
            var d = await _client.AppsV1.ReadNamespacedDeploymentAsync("web", ns, cancellationToken: Ct);
            sawOldPending |= d.Status.ObservedGeneration == 2 && d.Status.Replicas > d.Status.UpdatedReplicas;
            return d;
        }, RolledOut, "second rollout", TimeSpan.FromSeconds(10));
        Assert.True(sawOldPending);
        Assert.Equal("2", done.Metadata.Annotations["deployment.kubernetes.io/revision"]);

        var replicaSets = (await _client.AppsV1.ListNamespacedReplicaSetAsync(ns, labelSelector: "app=web", cancellationToken: Ct)).Items;
        Assert.Equal(2, replicaSets.Count);
        var newRs = replicaSets.Single(rs => rs.Spec.Template.Spec.Containers[0].Image == "web:2");
        var oldRs = replicaSets.Single(rs => rs.Spec.Template.Spec.Containers[0].Image == "web:1");
        Assert.Equal("2", newRs.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal(0, oldRs.Spec.Replicas);
        Assert.Equal(done.Metadata.Uid, newRs.Metadata.OwnerReferences.Single().Uid);

        var hash = newRs.Metadata.Labels["pod-template-hash"];
        var pods = await Poll.AdvanceUntilAsync(fixture.Api, () => _client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app=web", cancellationToken: Ct),
            l => l.Items.Count == 3, "old pods gone", TimeSpan.FromSeconds(2));
        Assert.All(pods.Items, p => Assert.Equal(hash, p.Metadata.Labels["pod-template-hash"]));
        Assert.All(pods.Items, p => Assert.Equal(newRs.Metadata.Uid, p.Metadata.OwnerReferences.Single().Uid));
        Assert.All(pods.Items, p => Assert.Equal("Running", p.Status.Phase));
        Assert.Null(fixture.Api.ControllerError);
    }

    [Fact]
    public async Task A_stuck_rollout_reports_progress_deadline_exceeded_and_the_pods_say_why()
    {
        var ns = await fixture.NewNamespaceAsync("stuck");
        await ApplyDeployment(ns, "api", "api:1", 2, "\"progressDeadlineSeconds\":30,");
        await Poll.AdvanceUntilAsync(fixture.Api, () => _client.AppsV1.ReadNamespacedDeploymentAsync("api", ns, cancellationToken: Ct), RolledOut, "first rollout", TimeSpan.FromSeconds(10));

        fixture.Api.Faults.Inject(ns, "api", PodFault.ImagePlatformMismatch());
        await ApplyDeployment(ns, "api", "api:2", 2, "\"progressDeadlineSeconds\":30,");
        var failed = await Poll.AdvanceUntilAsync(fixture.Api, () => _client.AppsV1.ReadNamespacedDeploymentAsync("api", ns, cancellationToken: Ct),
            d => d.Status.Conditions?.Any(c => c.Type == "Progressing" && c.Reason == "ProgressDeadlineExceeded") == true, "deadline exceeded", TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(2));
        Assert.Equal(2, failed.Status.AvailableReplicas);

        var newRs = (await _client.AppsV1.ListNamespacedReplicaSetAsync(ns, cancellationToken: Ct)).Items.Single(rs => rs.Spec.Template.Spec.Containers[0].Image == "api:2");
        var newPods = (await _client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"pod-template-hash={newRs.Metadata.Labels["pod-template-hash"]}", cancellationToken: Ct)).Items;
        var waiting = newPods.Select(p => p.Status.ContainerStatuses.Single().State.Waiting).ToList();
        Assert.All(waiting, w => Assert.Equal("ImagePullBackOff", w.Reason));
        Assert.All(waiting, w => Assert.Contains("no match for platform in manifest", w.Message));

        var events = await _client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: $"involvedObject.name={newPods[0].Metadata.Name}", cancellationToken: Ct);
        Assert.Contains(events.Items, e => e.Reason == "Failed" && e.Message.Contains("no match for platform", StringComparison.Ordinal) && e.InvolvedObject.Uid == newPods[0].Metadata.Uid);
        fixture.Api.Faults.Clear(ns, "api");
    }

    [Theory]
    [InlineData("crash")]
    [InlineData("secret")]
    [InlineData("oom")]
    [InlineData("unauthorized")]
    [InlineData("readiness")]
    [InlineData("unschedulable")]
    public async Task Injected_pod_failures_show_in_pod_status_events_and_logs(string failure)
    {
        var ns = await fixture.NewNamespaceAsync("fault");
        fixture.Api.Faults.Inject(ns, "svc", failure switch
        {
            "crash" => PodFault.CrashLoop(3, ["Traceback (most recent call last):", "KeyError: 'DATABASE_URL'"]),
            "secret" => PodFault.MissingSecret("tesslate-app-secrets"),
            "oom" => PodFault.OutOfMemory(),
            "unauthorized" => PodFault.ImagePullUnauthorized(),
            "readiness" => PodFault.ReadinessProbe(),
            _ => PodFault.Unschedulable(),
        });
        await ApplyDeployment(ns, "svc", "svc:1", 1);
        var pod = (await Poll.AdvanceUntilAsync(fixture.Api, () => _client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: Ct),
            l => l.Items.Count == 1 && l.Items[0].Status.Conditions?.Count > 0, "a pod with status", TimeSpan.FromSeconds(5))).Items[0];
        fixture.Api.Clock.Advance(TimeSpan.FromSeconds(5));
        pod = await _client.CoreV1.ReadNamespacedPodAsync(pod.Metadata.Name, ns, cancellationToken: Ct);
        var events = (await _client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: $"involvedObject.name={pod.Metadata.Name}", cancellationToken: Ct)).Items;
        Assert.DoesNotContain(pod.Status.Conditions, c => c.Type == "Ready" && c.Status == "True");
        var container = pod.Status.ContainerStatuses?.SingleOrDefault();
        switch (failure)
        {
            case "crash":
                Assert.Equal("CrashLoopBackOff", container!.State.Waiting.Reason);
                Assert.Equal(3, container.LastState.Terminated.ExitCode);
                Assert.True(container.RestartCount > 0);
                using (var logs = await _client.CoreV1.ReadNamespacedPodLogAsync(pod.Metadata.Name, ns, previous: true, cancellationToken: Ct))
                {
                    Assert.Contains("KeyError: 'DATABASE_URL'", await new StreamReader(logs).ReadToEndAsync(Ct));
                }

                break;
            case "secret":
                Assert.Equal("CreateContainerConfigError", container!.State.Waiting.Reason);
                Assert.Equal("secret \"tesslate-app-secrets\" not found", container.State.Waiting.Message);
                break;
            case "oom":
                Assert.Equal("OOMKilled", container!.LastState.Terminated.Reason);
                Assert.Equal(137, container.LastState.Terminated.ExitCode);
                break;
            case "unauthorized":
                Assert.Equal("ImagePullBackOff", container!.State.Waiting.Reason);
                Assert.Contains("unauthorized", container.State.Waiting.Message);
                break;
            case "readiness":
                Assert.NotNull(container!.State.Running);
                Assert.False(container.Ready);
                Assert.Contains(events, e => e.Reason == "Unhealthy" && e.Message.StartsWith("Readiness probe failed", StringComparison.Ordinal));
                break;
            default:
                Assert.Equal("Pending", pod.Status.Phase);
                Assert.Contains(pod.Status.Conditions, c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable");
                Assert.Contains(events, e => e.Reason == "FailedScheduling" && e.Message.Contains("Insufficient memory", StringComparison.Ordinal));
                break;
        }
    }

    [Fact]
    public async Task A_daemon_set_updates_one_node_at_a_time_until_every_node_runs_the_new_template()
    {
        var ns = await fixture.NewNamespaceAsync("ds");
        var manifest = Apply("DaemonSet", "csi-node", "csi:1");
        await _client.AppsV1.PatchNamespacedDaemonSetAsync(new V1Patch(manifest, V1Patch.PatchType.ApplyPatch), "csi-node", ns, fieldManager: "tesslate-build", cancellationToken: Ct);
        static bool Done(V1DaemonSet ds) =>
            ds.Status?.ObservedGeneration >= ds.Metadata.Generation && ds.Status.DesiredNumberScheduled == 3
            && ds.Status.UpdatedNumberScheduled == 3 && ds.Status.NumberAvailable == 3;
        await Poll.AdvanceUntilAsync(fixture.Api, () => _client.AppsV1.ReadNamespacedDaemonSetAsync("csi-node", ns, cancellationToken: Ct), Done, "daemon set ready", TimeSpan.FromSeconds(5));

        await _client.AppsV1.PatchNamespacedDaemonSetAsync(new V1Patch(manifest.Replace("csi:1", "csi:2"), V1Patch.PatchType.ApplyPatch), "csi-node", ns, fieldManager: "tesslate-build", cancellationToken: Ct);
        var partial = false;
        var done = await Poll.AdvanceUntilAsync(fixture.Api, async () =>
        {
            var ds = await _client.AppsV1.ReadNamespacedDaemonSetAsync("csi-node", ns, cancellationToken: Ct);
            partial |= ds.Status.ObservedGeneration == 2 && ds.Status.UpdatedNumberScheduled is > 0 and < 3;
            return ds;
        }, Done, "daemon set updated", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        Assert.True(partial);
        var pods = (await _client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: Ct)).Items;
        Assert.Equal(3, pods.Select(p => p.Spec.NodeName).Distinct().Count());
        Assert.All(pods, p => Assert.Equal("csi:2", p.Spec.Containers[0].Image));
        Assert.Equal(2, done.Metadata.Generation);
    }

    [Fact]
    public async Task A_stateful_set_updates_pods_in_reverse_order_and_moves_current_revision_last()
    {
        var ns = await fixture.NewNamespaceAsync("sts");
        var manifest = Apply("StatefulSet", "db", "db:1", 2);
        await _client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch(manifest, V1Patch.PatchType.ApplyPatch), "db", ns, fieldManager: "tesslate-build", cancellationToken: Ct);
        static bool Done(V1StatefulSet s) =>
            s.Status?.ObservedGeneration >= s.Metadata.Generation && s.Status.ReadyReplicas == 2 && s.Status.UpdatedReplicas == 2
            && s.Status.CurrentRevision == s.Status.UpdateRevision;
        var first = await Poll.AdvanceUntilAsync(fixture.Api, () => _client.AppsV1.ReadNamespacedStatefulSetAsync("db", ns, cancellationToken: Ct), Done, "stateful set ready", TimeSpan.FromSeconds(5));

        await _client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch(manifest.Replace("db:1", "db:2"), V1Patch.PatchType.ApplyPatch), "db", ns, fieldManager: "tesslate-build", cancellationToken: Ct);
        var sawSplit = false;
        var done = await Poll.AdvanceUntilAsync(fixture.Api, async () =>
        {
            var s = await _client.AppsV1.ReadNamespacedStatefulSetAsync("db", ns, cancellationToken: Ct);
            sawSplit |= s.Status.UpdateRevision != s.Status.CurrentRevision;
            return s;
        }, Done, "stateful set updated", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        Assert.True(sawSplit);
        Assert.NotEqual(first.Status.UpdateRevision, done.Status.UpdateRevision);
        var pods = (await _client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: Ct)).Items;
        Assert.Equal(["db-0", "db-1"], pods.Select(p => p.Metadata.Name).Order());
        Assert.All(pods, p => Assert.Equal(done.Status.UpdateRevision, p.Metadata.Labels["controller-revision-hash"]));
    }

    [Fact]
    public async Task Deleting_a_deployment_collects_its_replica_sets_and_pods()
    {
        var ns = await fixture.NewNamespaceAsync("gc");
        await ApplyDeployment(ns, "tmp", "tmp:1", 2);
        await Poll.AdvanceUntilAsync(fixture.Api, () => _client.AppsV1.ReadNamespacedDeploymentAsync("tmp", ns, cancellationToken: Ct), RolledOut, "rollout", TimeSpan.FromSeconds(5));
        await _client.AppsV1.DeleteNamespacedDeploymentAsync("tmp", ns, cancellationToken: Ct);
        await Poll.AdvanceUntilAsync(fixture.Api, () => _client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: Ct), l => l.Items.Count == 0, "pods collected", TimeSpan.FromSeconds(2));
        Assert.Empty((await _client.AppsV1.ListNamespacedReplicaSetAsync(ns, cancellationToken: Ct)).Items);
    }
}
