using k8s.Models;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>A rendered object that runs pods, reduced to what the checks read.</summary>
internal sealed record Workload(string Kind, string Namespace, string Name, V1PodSpec Pod, IDictionary<string, string> Annotations, int? ProgressDeadlineSeconds)
{
    public bool IsJob => Kind is "CronJob" or "Job";

    public IEnumerable<V1Container> AllContainers => Pod.Containers.Concat(Pod.InitContainers ?? []);

    public override string ToString() => $"{Kind} {Namespace}/{Name}";
}

internal static class Workloads
{
    public static IReadOnlyList<Workload> Of(Rendering rendering) =>
        [.. rendering.Objects.Select(From).OfType<Workload>()];

    private static Workload? From(object manifest) => manifest switch
    {
        V1Deployment d => new("Deployment", d.Namespace() ?? "", d.Name(), d.Spec.Template.Spec, d.Metadata.Annotations ?? new Dictionary<string, string>(), d.Spec.ProgressDeadlineSeconds),
        V1DaemonSet d => new("DaemonSet", d.Namespace() ?? "", d.Name(), d.Spec.Template.Spec, d.Metadata.Annotations ?? new Dictionary<string, string>(), null),
        V1StatefulSet s => new("StatefulSet", s.Namespace() ?? "", s.Name(), s.Spec.Template.Spec, s.Metadata.Annotations ?? new Dictionary<string, string>(), null),
        V1CronJob c => new("CronJob", c.Namespace() ?? "", c.Name(), c.Spec.JobTemplate.Spec.Template.Spec, c.Metadata.Annotations ?? new Dictionary<string, string>(), null),
        V1Job j => new("Job", j.Namespace() ?? "", j.Name(), j.Spec.Template.Spec, j.Metadata.Annotations ?? new Dictionary<string, string>(), null),
        _ => null,
    };

    /// <summary>Splits an image reference into repository (with registry), tag and digest.</summary>
    public static (string Repository, string? Tag, string? Digest) ParseImage(string image)
    {
        string? digest = null;
        var at = image.IndexOf('@');
        if (at >= 0)
        {
            digest = image[(at + 1)..];
            image = image[..at];
        }

        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..], digest) : (image, null, digest);
    }
}
