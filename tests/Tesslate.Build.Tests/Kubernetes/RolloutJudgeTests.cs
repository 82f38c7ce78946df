using k8s.Models;
using Tesslate.Build.Kubernetes;
using Xunit;
using static Tesslate.Build.Tests.Kubernetes.KubeFixtures;

namespace Tesslate.Build.Tests.Kubernetes;

public sealed class RolloutJudgeTests
{
    [Fact]
    public void A_deployment_whose_new_generation_is_not_observed_is_waiting() =>
        Assert.Equal(RolloutState.Progressing, RolloutJudge.Judge(Deployment("d", generation: 2, observed: 1)).State);

    [Fact]
    public void A_deployment_past_its_progress_deadline_failed()
    {
        var verdict = RolloutJudge.Judge(Deployment("d", updated: 0, progressingReason: "ProgressDeadlineExceeded"));
        Assert.Equal(RolloutState.Failed, verdict.State);
        Assert.Contains("exceeded its progress deadline", verdict.Message);
    }

    [Theory]
    [InlineData(3, 1, 3, 1, "1 out of 3 new replicas have been updated")]
    [InlineData(3, 3, 4, 3, "1 old replicas are pending termination")]
    [InlineData(3, 3, 3, 2, "2 of 3 updated replicas are available")]
    public void A_deployment_in_progress_says_what_it_waits_for(int desired, int updated, int total, int available, string message)
    {
        var verdict = RolloutJudge.Judge(Deployment("d", replicas: desired, updated: updated, total: total, available: available));
        Assert.Equal(new RolloutVerdict(RolloutState.Progressing, message), verdict);
    }

    [Fact]
    public void A_deployment_with_all_replicas_updated_and_available_and_no_old_ones_is_complete() =>
        Assert.Equal(RolloutState.Complete, RolloutJudge.Judge(Deployment("d", replicas: 2, updated: 2, total: 2, available: 2)).State);

    [Fact]
    public void A_daemonset_follows_kubectls_rules()
    {
        V1DaemonSet Ds(int desired, int updated, int available, long observed = 1) => new()
        {
            Metadata = new V1ObjectMeta { Name = "csi", Generation = 1 },
            Spec = new V1DaemonSetSpec { UpdateStrategy = new V1DaemonSetUpdateStrategy { Type = "RollingUpdate" } },
            Status = new V1DaemonSetStatus { DesiredNumberScheduled = desired, UpdatedNumberScheduled = updated, NumberAvailable = available, ObservedGeneration = observed },
        };
        Assert.Equal("waiting for daemon set spec update to be observed", RolloutJudge.Judge(Ds(3, 3, 3, observed: 0)).Message);
        Assert.Equal("1 out of 3 new pods have been updated", RolloutJudge.Judge(Ds(3, 1, 3)).Message);
        Assert.Equal("2 of 3 updated pods are available", RolloutJudge.Judge(Ds(3, 3, 2)).Message);
        Assert.Equal(RolloutState.Complete, RolloutJudge.Judge(Ds(3, 3, 3)).State);
        var onDelete = Ds(3, 3, 3);
        onDelete.Spec.UpdateStrategy.Type = "OnDelete";
        Assert.Equal(RolloutState.Failed, RolloutJudge.Judge(onDelete).State);
    }

    [Fact]
    public void A_statefulset_waits_for_ready_pods_then_for_the_update_revision()
    {
        V1StatefulSet Sts(int ready, string current, string update, int? partition = null, int updated = 3) => new()
        {
            Metadata = new V1ObjectMeta { Name = "db", Generation = 2 },
            Spec = new V1StatefulSetSpec { Replicas = 3, UpdateStrategy = new V1StatefulSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = partition is null ? null : new V1RollingUpdateStatefulSetStrategy { Partition = partition } } },
            Status = new V1StatefulSetStatus { ObservedGeneration = 2, ReadyReplicas = ready, CurrentRevision = current, UpdateRevision = update, UpdatedReplicas = updated, CurrentReplicas = 3 },
        };
        Assert.Equal("waiting for 1 pods to be ready", RolloutJudge.Judge(Sts(2, "a", "b")).Message);
        Assert.StartsWith("waiting for statefulset rolling update to complete", RolloutJudge.Judge(Sts(3, "a", "b")).Message);
        Assert.Equal(RolloutState.Complete, RolloutJudge.Judge(Sts(3, "b", "b")).State);
        Assert.Equal(RolloutState.Progressing, RolloutJudge.Judge(Sts(3, "a", "b", partition: 1, updated: 1)).State);
        Assert.Equal(RolloutState.Complete, RolloutJudge.Judge(Sts(3, "a", "b", partition: 1, updated: 2)).State);
    }

    /// <summary>A StatefulSet whose status, read alone, says done: three ready pods, all on the one revision.</summary>
    private static V1StatefulSet SettledStatefulSet(long? generation, long? observed) => new()
    {
        Metadata = new V1ObjectMeta { Name = "db", Generation = generation },
        Spec = new V1StatefulSetSpec { Replicas = 3, UpdateStrategy = new V1StatefulSetUpdateStrategy { Type = "RollingUpdate" } },
        Status = new V1StatefulSetStatus { ObservedGeneration = observed, Replicas = 3, ReadyReplicas = 3, UpdatedReplicas = 3, CurrentReplicas = 3, CurrentRevision = "db-a", UpdateRevision = "db-a" },
    };

    [Theory]
    [InlineData(3L, 2L)]
    [InlineData(7L, 1L)]
    public void A_statefulset_whose_generation_is_ahead_of_the_observed_one_waits_although_its_old_status_looks_done(long generation, long observed)
    {
        // The status still describes the previous spec: its "all ready on one revision" says nothing about this one.
        var verdict = RolloutJudge.Judge(SettledStatefulSet(generation, observed));
        Assert.Equal(new RolloutVerdict(RolloutState.Progressing, "waiting for statefulset spec update to be observed"), verdict);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(0L)]
    [InlineData(null)]
    public void A_statefulset_the_controller_has_never_observed_waits(long? generation)
    {
        // kubectl: ObservedGeneration == 0 means the controller has not written a status for any spec yet.
        Assert.Equal(new RolloutVerdict(RolloutState.Progressing, "waiting for statefulset spec update to be observed"), RolloutJudge.Judge(SettledStatefulSet(generation, 0)));
        Assert.Equal(RolloutState.Progressing, RolloutJudge.Judge(SettledStatefulSet(generation, null)).State);
        Assert.Equal(RolloutState.Progressing, RolloutJudge.Judge(new V1StatefulSet { Metadata = new V1ObjectMeta { Name = "db", Generation = generation }, Spec = new V1StatefulSetSpec { Replicas = 3 } }).State);
    }

    [Theory]
    [InlineData(2L, 2L)]
    [InlineData(2L, 3L)]
    public void A_statefulset_whose_current_generation_was_observed_is_judged_by_its_status(long generation, long observed) =>
        Assert.Equal(new RolloutVerdict(RolloutState.Complete, "statefulset rolling update complete 3 pods at revision db-a"), RolloutJudge.Judge(SettledStatefulSet(generation, observed)));

    [Fact]
    public void Deadlines_are_at_least_300s_and_grow_with_grace_periods_and_nodes()
    {
        var worker = Deployment("worker");
        worker.Spec.Template.Spec = new V1PodSpec { TerminationGracePeriodSeconds = 300, Containers = [] };
        Assert.Equal(TimeSpan.FromSeconds(600), RolloutDeadlines.For(worker));
        var small = Deployment("frontend");
        Assert.Equal(TimeSpan.FromSeconds(330), RolloutDeadlines.For(small));
        var csi = new V1DaemonSet { Spec = new V1DaemonSetSpec { Template = new V1PodTemplateSpec { Spec = new V1PodSpec { TerminationGracePeriodSeconds = 600, Containers = [] } } } };
        Assert.Equal(TimeSpan.FromSeconds(300 + (600 * 5)), RolloutDeadlines.For(csi, nodeCount: 5));
        Assert.Throws<global::Tesslate.Build.Engine.UsageException>(() => RolloutDeadlines.ValidateOverride(TimeSpan.Zero, "--deadline"));
        Assert.Throws<global::Tesslate.Build.Engine.UsageException>(() => RolloutDeadlines.ValidateOverride(TimeSpan.FromSeconds(-5), "--deadline"));
        Assert.Equal(TimeSpan.FromMinutes(15), RolloutDeadlines.ValidateOverride(TimeSpan.FromMinutes(15), "--deadline"));
    }
}

public sealed class RolloutObservationTests
{
    private static Tesslate.Build.Kubernetes.KubeObject Workload(long generation, long? observed) =>
        new(System.Text.Json.Nodes.JsonNode.Parse($$"""
            { "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "backend", "namespace": "tesslate", "generation": {{generation}} },
              "status": {{(observed is null ? "{}" : $$"""{ "observedGeneration": {{observed}} }""")}} }
            """)!.AsObject());

    [Theory]
    [InlineData(3, 3L, true)]
    [InlineData(3, 4L, true)]
    [InlineData(4, 3L, false)]
    [InlineData(1, null, false)]
    public void Pods_are_judged_only_once_the_controller_has_observed_the_current_spec(long generation, long? observed, bool expected) =>
        Xunit.Assert.Equal(expected, Tesslate.Build.Kubernetes.RolloutWaiter.IsObserved(Workload(generation, observed)));
}
