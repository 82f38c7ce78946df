using System.Text.Json.Nodes;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes;

/// <summary>What a live workload runs: container name → image, init containers included, and its replica count.</summary>
public sealed record WorkloadState(ObjectRef Workload, IReadOnlyDictionary<string, string> Images, int? Replicas, bool Exists = true)
{
    public static WorkloadState Missing(ObjectRef workload) => new(workload, new Dictionary<string, string>(), null, Exists: false);

    /// <summary>Reads images and replicas from a workload object (Deployment, DaemonSet, StatefulSet, CronJob…).</summary>
    public static WorkloadState From(KubeObject obj)
    {
        var images = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (PodTemplates.PodSpec(obj) is { } spec)
            foreach (var (container, _) in PodTemplates.Containers(spec))
                if ((string?)container["name"] is { } name && (string?)container["image"] is { } image)
                    images[name] = image;
        var replicas = obj.Body["spec"]?["replicas"] is JsonValue value && value.TryGetValue<int>(out var r) ? r : (int?)null;
        return new WorkloadState(obj.Ref, images, replicas);
    }
}

/// <summary>Reads what workloads run now: before a deploy (the "before" of the release record) and after it.</summary>
public sealed class WorkloadSnapshot(KubeCluster cluster)
{
    public async Task<IReadOnlyList<WorkloadState>> CaptureAsync(IEnumerable<ObjectRef> workloads, CancellationToken cancellationToken)
    {
        var states = new List<WorkloadState>();
        foreach (var workload in workloads)
        {
            var kind = PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind;
            var apiVersion = kind == "CronJob" ? "batch/v1" : "apps/v1";
            var resource = await cluster.ResolveAsync(apiVersion, kind, cancellationToken);
            var live = resource is null || workload.Namespace is null && resource.Namespaced
                ? null
                : await cluster.GetAsync(resource, workload.Namespace, workload.Name, cancellationToken);
            states.Add(live is null ? WorkloadState.Missing(workload with { Kind = kind }) : WorkloadState.From(new KubeObject(live)));
        }
        return states;
    }

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
