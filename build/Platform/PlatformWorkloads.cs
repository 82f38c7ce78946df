using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;

namespace Tesslate.Build.Platform;

/// <summary>The platform's namespaces and the workloads operations name (legacy-pipeline.md §1.4, §2).</summary>
public static class PlatformWorkloads
{
    public const string Namespace = "tesslate";
    public const string SystemNamespace = "kube-system";

    /// <summary>User projects live in one namespace each: proj-&lt;uuid&gt;.</summary>
    public const string ProjectNamespacePrefix = "proj-";

    public static readonly ObjectRef Backend = Deployment("tesslate-backend");
    public static readonly ObjectRef Frontend = Deployment("tesslate-frontend");
    public static readonly ObjectRef Worker = Deployment("tesslate-worker");
    public static readonly ObjectRef Litellm = Deployment("litellm");
    public static readonly ObjectRef CsiNode = new("DaemonSet", SystemNamespace, "tesslate-btrfs-csi-node");
    public static readonly ObjectRef VolumeHub = new("Deployment", SystemNamespace, "tesslate-volume-hub");

    /// <summary>The wildcard certificate every environment serves (cert-manager Certificate in the tesslate namespace).</summary>
    public const string WildcardCertificate = "tesslate-wildcard-tls";

    /// <summary>legacy <c>reload</c> with no names: apply the overlay, then restart these.</summary>
    public static readonly IReadOnlyList<ObjectRef> ReloadDefaults = [Backend, Frontend, Worker];

    /// <summary>What SafeShutdown scales to zero and Resume restores (worker first: it drains jobs for up to 300 s).</summary>
    public static readonly IReadOnlyList<ObjectRef> ShutdownWorkloads = [Worker, Backend];

    /// <summary>LiteLLM's config: file in the repository → ConfigMap litellm-config, key config.yaml (legacy sync_litellm_config).</summary>
    public const string LitellmConfigFile = "k8s/litellm/config.yaml";
    public const string LitellmConfigMap = "litellm-config";
    public const string LitellmConfigKey = "config.yaml";

    /// <summary>The legacy script's short names (resolve_deployment_name), kept verbatim.</summary>
    public static readonly IReadOnlyDictionary<string, ObjectRef> LegacyShortNames = new Dictionary<string, ObjectRef>(StringComparer.Ordinal)
    {
        ["backend"] = Backend,
        ["frontend"] = Frontend,
        ["worker"] = Worker,
        ["litellm"] = Litellm,
        ["redis"] = Deployment("redis"),
        ["pg"] = Deployment("postgres"),
        ["postgres"] = Deployment("postgres"),
        ["litellm-pg"] = Deployment("litellm-postgres"),
        ["litellm-postgres"] = Deployment("litellm-postgres"),
        ["volume-hub"] = VolumeHub,
    };

    private static ObjectRef Deployment(string name) => new("Deployment", Namespace, name);

    /// <summary>
    /// Resolves names given on the command line to workloads: a legacy short name, a workload name from the rendered
    /// manifests (with or without the <c>tesslate-</c> prefix: <c>gateway</c> = <c>tesslate-gateway</c>), each once,
    /// in the order given. Unknown names fail before anything happens, listing what exists.
    /// </summary>
    public static IReadOnlyList<ObjectRef> Resolve(IEnumerable<string> names, IEnumerable<ObjectRef> renderedWorkloads)
    {
        var rendered = renderedWorkloads.Where(w => PodTemplates.RolloutKinds.Contains(PodTemplates.RolloutKind(w.Kind) ?? w.Kind)).ToList();
        var result = new List<ObjectRef>();
        var unknown = new List<string>();
        foreach (var raw in names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var found = Find(raw, rendered);
            if (found is null)
                unknown.Add(raw);
            else if (!result.Contains(found))
                result.Add(found);
        }
        if (unknown.Count > 0)
            throw new UsageException(
                $"Unknown workload name(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", KnownNames(rendered))}.",
                "Use a legacy short name (backend, frontend, worker, litellm, redis, pg, litellm-pg, volume-hub) or a workload name from the overlay, e.g. --workloads gateway.");
        return result;
    }

    /// <summary>Every name <see cref="Resolve"/> accepts, for messages and shell completion.</summary>
    public static IReadOnlyList<string> KnownNames(IEnumerable<ObjectRef> renderedWorkloads)
    {
        var names = new SortedSet<string>(LegacyShortNames.Keys, StringComparer.Ordinal);
        foreach (var workload in renderedWorkloads)
            names.Add(workload.Name.StartsWith("tesslate-", StringComparison.Ordinal) ? workload.Name["tesslate-".Length..] : workload.Name);
        return [.. names];
    }

    private static ObjectRef? Find(string name, IReadOnlyList<ObjectRef> rendered)
    {
        if (LegacyShortNames.TryGetValue(name, out var legacy))
            return legacy;
        var exact = rendered.FirstOrDefault(w => w.Name == name) ?? rendered.FirstOrDefault(w => w.Name == "tesslate-" + name);
        if (exact is null)
            return null;
        return exact with { Kind = PodTemplates.RolloutKind(exact.Kind) ?? exact.Kind, Namespace = exact.Namespace ?? Namespace };
    }
}
