using System.Text.Json.Nodes;

namespace Tesslate.Build.Kubernetes;

/// <summary>Where each workload kind keeps its pod spec, and the kinds that run pods.</summary>
public static class PodTemplates
{
    public static readonly IReadOnlySet<string> WorkloadKinds =
        new HashSet<string>(StringComparer.Ordinal) { "Deployment", "DaemonSet", "StatefulSet", "CronJob", "Job", "Pod", "ReplicaSet" };

    /// <summary>The kinds whose rollouts can be watched and restarted.</summary>
    public static readonly IReadOnlySet<string> RolloutKinds =
        new HashSet<string>(StringComparer.Ordinal) { "Deployment", "DaemonSet", "StatefulSet" };

    /// <summary>"deployment", "deploy", "DaemonSet", "ds", "sts" → the API's kind; null when not a rollout kind.</summary>
    public static string? RolloutKind(string kind) => kind.ToLowerInvariant() switch
    {
        "deployment" or "deployments" or "deploy" => "Deployment",
        "daemonset" or "daemonsets" or "ds" => "DaemonSet",
        "statefulset" or "statefulsets" or "sts" => "StatefulSet",
        _ => null,
    };

    public static JsonObject? PodSpec(KubeObject obj) => obj.Kind switch
    {
        "Pod" => obj.Body["spec"] as JsonObject,
        "CronJob" => obj.Body["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"] as JsonObject,
        _ when WorkloadKinds.Contains(obj.Kind) => obj.Body["spec"]?["template"]?["spec"] as JsonObject,
        _ => null,
    };

    /// <summary>Containers and init containers of a pod spec, with a flag saying which is which.</summary>
    public static IEnumerable<(JsonObject Container, bool IsInit)> Containers(JsonObject podSpec)
    {
        foreach (var (field, isInit) in new[] { ("initContainers", true), ("containers", false) })
            if (podSpec[field] is JsonArray list)
                foreach (var container in list.OfType<JsonObject>())
                    yield return (container, isInit);
    }
}
