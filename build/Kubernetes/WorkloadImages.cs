using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes;

/// <summary>One container (or init container) of a workload and the image it runs.</summary>
public sealed record WorkloadImageUse(ObjectRef Workload, string Container, bool IsInit, ImageReference Image);

/// <summary>Which workloads use which image repository, read from rendered manifests (pure), never from a hand-kept table.</summary>
public static class WorkloadImages
{
    public static IReadOnlyList<WorkloadImageUse> FromManifests(IEnumerable<KubeObject> objects) =>
        [.. from obj in objects
            let podSpec = PodTemplates.PodSpec(obj)
            where podSpec is not null
            from entry in PodTemplates.Containers(podSpec)
            let image = (string?)entry.Container["image"]
            where image is not null
            select new WorkloadImageUse(obj.Ref, (string?)entry.Container["name"] ?? "", entry.IsInit, ImageReference.Parse(image))];

    /// <summary>Workloads (in manifest order, each once) whose containers or init containers use the repository.</summary>
    public static IReadOnlyList<ObjectRef> Using(IEnumerable<KubeObject> objects, string repository) =>
        [.. FromManifests(objects).Where(u => u.Image.Repository == repository).Select(u => u.Workload).Distinct()];
}
