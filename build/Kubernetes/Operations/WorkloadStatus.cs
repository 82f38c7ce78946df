using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes.Operations;

/// <summary>One container of a workload: the image its spec names, the digests its pods run, and the commit it was built from (when known).</summary>
public sealed record ContainerImageState(string Container, string Image, IReadOnlyList<string> RunningDigests, string? GitSha)
{
    /// <summary>The spec names a tag, not a digest: the commit is what the tag names (a third party's <c>set image</c>, an old release).</summary>
    public bool ByTag { get; init; }
}

public sealed record WorkloadReadiness(ObjectRef Workload, bool Exists, int Desired, int Ready, int Updated, IReadOnlyList<ContainerImageState> Containers)
{
    public override string ToString() => Exists ? $"{Workload}: {Ready}/{Desired} ready" : $"{Workload}: not found";
}

/// <summary>Reads what runs: desired and ready counts, images and the digests their pods actually pulled.</summary>
public static partial class WorkloadStatus
{
    public static async Task<IReadOnlyList<WorkloadReadiness>> ReadAsync(KubeCluster cluster, IEnumerable<ObjectRef> workloads, CancellationToken cancellationToken)
    {
        var pods = await cluster.RequireAsync("v1", "Pod", cancellationToken);
        return await Task.WhenAll(workloads.Select(async workload =>
        {
            var kind = PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind;
            var resource = await cluster.RequireAsync("apps/v1", kind, cancellationToken);
            var obj = await cluster.GetAsync(resource, workload.Namespace, workload.Name, cancellationToken);
            if (obj is null)
                return new WorkloadReadiness(workload, false, 0, 0, 0, []);
            var selector = LabelSelector(obj);
            var podList = selector is null ? [] : await cluster.ListAsync(pods, workload.Namespace, selector, null, cancellationToken);
            return Judge(workload, new KubeObject(obj), podList);
        }));
    }

    /// <summary>Pure: counts and images of one workload from its object and its pods.</summary>
    public static WorkloadReadiness Judge(ObjectRef workload, KubeObject obj, IReadOnlyList<JsonObject> pods)
    {
        var status = obj.Body["status"];
        var (desired, ready, updated) = obj.Kind switch
        {
            "DaemonSet" => ((int?)status?["desiredNumberScheduled"] ?? 0, (int?)status?["numberReady"] ?? 0, (int?)status?["updatedNumberScheduled"] ?? 0),
            _ => ((int?)obj.Body["spec"]?["replicas"] ?? 1, (int?)status?["readyReplicas"] ?? 0, (int?)status?["updatedReplicas"] ?? 0),
        };
        var podSpec = PodTemplates.PodSpec(obj);
        var containers = new List<ContainerImageState>();
        foreach (var (container, _) in podSpec is null ? [] : PodTemplates.Containers(podSpec))
        {
            var name = (string?)container["name"] ?? "";
            var image = (string?)container["image"] ?? "";
            var reference = ImageReference.Parse(image);
            var running = pods
                .SelectMany(p => (p["status"]?["containerStatuses"] as JsonArray ?? []).OfType<JsonObject>())
                .Where(s => (string?)s["name"] == name)
                .Select(s => DigestOf((string?)s["imageID"]) ?? DigestOf((string?)s["image"]))
                .OfType<string>()
                .Distinct()
                .ToList();
            if (running.Count == 0 && reference.Digest is not null)
                running.Add(reference.Digest);
            containers.Add(new ContainerImageState(name, image, running, GitShaFromTag(reference.Tag)) { ByTag = reference.Digest is null && reference.Tag is not null });
        }
        return new WorkloadReadiness(workload, true, desired, ready, updated, containers);
    }

    /// <summary><c>git-&lt;sha&gt;</c> tags (what BuildImages pushes) name the commit; other tags say nothing.</summary>
    public static string? GitShaFromTag(string? tag) =>
        tag is not null && GitTag().Match(tag) is { Success: true } m ? m.Groups["sha"].Value : null;

    /// <summary>The sha256 digest in an imageID such as <c>docker-pullable://repo@sha256:…</c> or <c>repo@sha256:…</c>.</summary>
    public static string? DigestOf(string? imageId)
    {
        if (string.IsNullOrEmpty(imageId))
            return null;
        var at = imageId.LastIndexOf("sha256:", StringComparison.Ordinal);
        return at < 0 ? null : imageId[at..];
    }

    private static string? LabelSelector(JsonObject workload) =>
        workload["spec"]?["selector"]?["matchLabels"] is JsonObject labels && labels.Count > 0
            ? string.Join(',', labels.Select(kv => $"{kv.Key}={(string?)kv.Value}"))
            : null;

    [GeneratedRegex("^git-(?<sha>[0-9a-f]{7,40})$")]
    private static partial Regex GitTag();
}
