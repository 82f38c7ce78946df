using k8s.Models;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary>
/// How long a rollout may take, derived from the workload (pure): never less than 300 s, plus one termination grace
/// period per batch of pods replaced (a worker with a 300 s grace needs more than 300 s; a DaemonSet with a 600 s
/// grace and maxUnavailable 1 needs 600 s per node).
/// </summary>
public static class RolloutDeadlines
{
    public static readonly TimeSpan Minimum = TimeSpan.FromSeconds(300);

    /// <summary>Rejects a zero or negative deadline override (the pipeline: <c>--rollout-timeout</c>) before anything runs.</summary>
    /// <param name="parameterName">How the caller's user gives the override, for the message.</param>
    public static TimeSpan? ValidateOverride(TimeSpan? value, string parameterName)
    {
        if (value is { } v && v <= TimeSpan.Zero)
            throw new UsageException($"{parameterName} must be a positive duration, got {Durations.Format(v)}.",
                $"Give a duration such as {parameterName} 15m, or leave it out to derive each workload's deadline from its spec.");
        return value;
    }

    public static TimeSpan For(KubeObject workload, int nodeCount) => workload.Kind switch
    {
        "Deployment" => For(workload.As<V1Deployment>()),
        "DaemonSet" => For(workload.As<V1DaemonSet>(), nodeCount),
        "StatefulSet" => For(workload.As<V1StatefulSet>()),
        _ => Minimum,
    };

    public static TimeSpan For(V1Deployment deployment)
    {
        var grace = deployment.Spec?.Template?.Spec?.TerminationGracePeriodSeconds ?? 30;
        var replicas = Math.Max(1, deployment.Spec?.Replicas ?? 1);
        int batches;
        if (deployment.Spec?.Strategy?.Type == "Recreate")
            batches = 1;
        else
        {
            var rolling = deployment.Spec?.Strategy?.RollingUpdate;
            var step = Math.Max(Amount(rolling?.MaxSurge, replicas, 0.25, roundUp: true), Amount(rolling?.MaxUnavailable, replicas, 0.25, roundUp: false));
            batches = (int)Math.Ceiling(replicas / (double)Math.Max(1, step));
        }
        var progress = deployment.Spec?.ProgressDeadlineSeconds ?? 0;
        return Max(Minimum, TimeSpan.FromSeconds(Math.Max(progress, Minimum.TotalSeconds + (grace * batches))));
    }

    public static TimeSpan For(V1DaemonSet daemonSet, int nodeCount)
    {
        var grace = daemonSet.Spec?.Template?.Spec?.TerminationGracePeriodSeconds ?? 30;
        var nodes = Math.Max(1, Math.Max(nodeCount, daemonSet.Status?.DesiredNumberScheduled ?? 0));
        var step = Math.Max(1, Amount(daemonSet.Spec?.UpdateStrategy?.RollingUpdate?.MaxUnavailable, nodes, 0, roundUp: false, fallback: 1));
        var batches = (int)Math.Ceiling(nodes / (double)step);
        return Max(Minimum, TimeSpan.FromSeconds(Minimum.TotalSeconds + (grace * batches)));
    }

    public static TimeSpan For(V1StatefulSet statefulSet)
    {
        var grace = statefulSet.Spec?.Template?.Spec?.TerminationGracePeriodSeconds ?? 30;
        var replicas = Math.Max(1, statefulSet.Spec?.Replicas ?? 1);
        return Max(Minimum, TimeSpan.FromSeconds(Minimum.TotalSeconds + (grace * replicas)));
    }

    private static int Amount(IntOrString? value, int total, double defaultFraction, bool roundUp, int? fallback = null)
    {
        if (value?.Value is not { } text)
            return fallback ?? (int)(roundUp ? Math.Ceiling(total * defaultFraction) : Math.Floor(total * defaultFraction));
        if (text.EndsWith('%') && double.TryParse(text[..^1], System.Globalization.CultureInfo.InvariantCulture, out var percent))
            return (int)(roundUp ? Math.Ceiling(total * percent / 100) : Math.Floor(total * percent / 100));
        return int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : fallback ?? 1;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
