using System.Text.Json.Nodes;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes;

/// <summary>
/// What a live workload runs: container name → image, init containers included, and its replica count. A ConfigMap
/// of run-time image references (the images the backend starts) is a release entry too: key → image.
/// </summary>
public sealed record WorkloadState(ObjectRef Workload, IReadOnlyDictionary<string, string> Images, int? Replicas, bool Exists = true)
{
    public static WorkloadState Missing(ObjectRef workload) => new(workload, new Dictionary<string, string>(), null, Exists: false);

    /// <summary>Reads images and replicas from a workload object (Deployment, DaemonSet, StatefulSet, CronJob…) or a runtime-images ConfigMap.</summary>
    public static WorkloadState From(KubeObject obj)
    {
        var images = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (obj.Kind == "ConfigMap")
        {
            foreach (var (key, entry) in obj.Body["data"] as JsonObject ?? new JsonObject())
                if ((string?)entry is { } image)
                    images[key] = image.Trim();
            return new WorkloadState(obj.Ref, images, null);
        }
        if (PodTemplates.PodSpec(obj) is { } spec)
            foreach (var (container, _) in PodTemplates.Containers(spec))
                if ((string?)container["name"] is { } name && (string?)container["image"] is { } image)
                    images[name] = image;
        var replicas = obj.Body["spec"]?["replicas"] is JsonValue value && value.TryGetValue<int>(out var r) ? r : (int?)null;
        return new WorkloadState(obj.Ref, images, replicas);
    }
}

/// <summary>Reads what workloads run (and the runtime-images ConfigMap names) now: before a deploy (the "before" of the release record) and after it.</summary>
public sealed class WorkloadSnapshot(KubeCluster cluster)
{
    public async Task<IReadOnlyList<WorkloadState>> CaptureAsync(IEnumerable<ObjectRef> workloads, CancellationToken cancellationToken)
    {
        var states = new List<WorkloadState>();
        foreach (var workload in workloads)
        {
            var kind = PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind;
            var resource = await cluster.ResolveAsync(ApiVersionOf(kind), kind, cancellationToken);
            var live = resource is null || workload.Namespace is null && resource.Namespaced
                ? null
                : await cluster.GetAsync(resource, workload.Namespace, workload.Name, cancellationToken);
            states.Add(live is null ? WorkloadState.Missing(workload with { Kind = kind }) : WorkloadState.From(new KubeObject(live)));
        }
        return states;
    }

    /// <summary>The API version of the kinds a release records.</summary>
    public static string ApiVersionOf(string kind) => kind switch
    {
        "CronJob" or "Job" => "batch/v1",
        "ConfigMap" or "Pod" => "v1",
        _ => "apps/v1",
    };

    /// <summary>Pairs states before and after into release entries (workloads missing before have no "before" images).</summary>
    public static IReadOnlyList<WorkloadRelease> Compare(IReadOnlyList<WorkloadState> before, IReadOnlyList<WorkloadState> after) =>
        [.. after.Select(a =>
        {
            var b = before.FirstOrDefault(x => x.Workload.Matches(a.Workload));
            return new WorkloadRelease(a.Workload, b?.Images ?? new Dictionary<string, string>(), a.Images, b?.Replicas, a.Replicas);
        })];

    /// <summary>repository → digest of every digest-pinned image the workloads run.</summary>
    public static IReadOnlyDictionary<string, string> DeployedDigests(IEnumerable<WorkloadState> states)
    {
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var image in states.SelectMany(s => s.Images.Values).Select(ImageReference.Parse).Where(i => i.Digest is not null))
            map[image.Repository] = image.Digest!;
        return map;
    }
}
