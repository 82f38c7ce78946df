using k8s.Models;

namespace Tesslate.Build.Kubernetes;

public enum RolloutState
{
    Progressing,
    Complete,
    Failed,
}

/// <summary>What a workload's status says about its rollout, in kubectl's words.</summary>
public sealed record RolloutVerdict(RolloutState State, string Message)
{
    public bool IsDone => State != RolloutState.Progressing;
}

/// <summary>
/// kubectl's rollout-status rules (DeploymentStatusViewer, DaemonSetStatusViewer, StatefulSetStatusViewer) as pure
/// functions of the object: generation observed, replicas updated, old replicas gone, updated replicas available.
/// </summary>
public static class RolloutJudge
{
    public static RolloutVerdict Judge(V1Deployment deployment)
    {
        var name = deployment.Metadata?.Name;
        var status = deployment.Status;
        if (status is null || (deployment.Metadata?.Generation ?? 0) > (status.ObservedGeneration ?? 0))
            return new(RolloutState.Progressing, "waiting for deployment spec update to be observed");
        var progressing = status.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
        if (progressing?.Reason == "ProgressDeadlineExceeded")
            return new(RolloutState.Failed, $"deployment \"{name}\" exceeded its progress deadline");
        var desired = deployment.Spec?.Replicas ?? 1;
        var updated = status.UpdatedReplicas ?? 0;
        var replicas = status.Replicas ?? 0;
        var available = status.AvailableReplicas ?? 0;
        if (updated < desired)
            return new(RolloutState.Progressing, $"{updated} out of {desired} new replicas have been updated");
        if (replicas > updated)
            return new(RolloutState.Progressing, $"{replicas - updated} old replicas are pending termination");
        if (available < updated)
            return new(RolloutState.Progressing, $"{available} of {updated} updated replicas are available");
        return new(RolloutState.Complete, $"deployment \"{name}\" successfully rolled out");
    }

    public static RolloutVerdict Judge(V1DaemonSet daemonSet)
    {
        var name = daemonSet.Metadata?.Name;
        if (daemonSet.Spec?.UpdateStrategy?.Type is { } type && type != "RollingUpdate")
            return new(RolloutState.Failed, $"rollout status is only available for RollingUpdate strategy type (daemon set \"{name}\" uses {type})");
        var status = daemonSet.Status;
        if (status is null || (daemonSet.Metadata?.Generation ?? 0) > (status.ObservedGeneration ?? 0))
            return new(RolloutState.Progressing, "waiting for daemon set spec update to be observed");
        var desired = status.DesiredNumberScheduled;
        var updated = status.UpdatedNumberScheduled ?? 0;
        var available = status.NumberAvailable ?? 0;
        if (updated < desired)
            return new(RolloutState.Progressing, $"{updated} out of {desired} new pods have been updated");
        if (available < desired)
            return new(RolloutState.Progressing, $"{available} of {desired} updated pods are available");
        return new(RolloutState.Complete, $"daemon set \"{name}\" successfully rolled out");
    }

    public static RolloutVerdict Judge(V1StatefulSet statefulSet)
    {
        var name = statefulSet.Metadata?.Name;
        var strategy = statefulSet.Spec?.UpdateStrategy;
        if (strategy?.Type is { } type && type != "RollingUpdate")
            return new(RolloutState.Failed, $"rollout status is only available for RollingUpdate strategy type (stateful set \"{name}\" uses {type})");
        var status = statefulSet.Status;
        if (status is null || (status.ObservedGeneration ?? 0) == 0 || (statefulSet.Metadata?.Generation ?? 0) > (status.ObservedGeneration ?? 0))
            return new(RolloutState.Progressing, "waiting for statefulset spec update to be observed");
        var replicas = statefulSet.Spec?.Replicas ?? 1;
        if ((status.ReadyReplicas ?? 0) < replicas)
            return new(RolloutState.Progressing, $"waiting for {replicas - (status.ReadyReplicas ?? 0)} pods to be ready");
        if (strategy?.RollingUpdate?.Partition is > 0 and var partition)
        {
            if ((status.UpdatedReplicas ?? 0) < replicas - partition)
                return new(RolloutState.Progressing, $"waiting for partitioned roll out to finish: {status.UpdatedReplicas ?? 0} out of {replicas - partition} new pods have been updated");
            return new(RolloutState.Complete, $"partitioned roll out complete: {status.UpdatedReplicas ?? 0} new pods have been updated");
        }
        if (status.UpdateRevision != status.CurrentRevision)
            return new(RolloutState.Progressing, $"waiting for statefulset rolling update to complete {status.UpdatedReplicas ?? 0} pods at revision {status.UpdateRevision}");
        return new(RolloutState.Complete, $"statefulset rolling update complete {status.CurrentReplicas ?? 0} pods at revision {status.CurrentRevision}");
    }

    /// <summary>Judges a generic object of a rollout kind (Deployment, DaemonSet, StatefulSet).</summary>
    public static RolloutVerdict Judge(KubeObject workload) => workload.Kind switch
    {
        "Deployment" => Judge(workload.As<V1Deployment>()),
        "DaemonSet" => Judge(workload.As<V1DaemonSet>()),
        "StatefulSet" => Judge(workload.As<V1StatefulSet>()),
        _ => throw new ArgumentException($"No rollout status for kind {workload.Kind}.", nameof(workload)),
    };
}
