using Tesslate.Build.Engine;

namespace Tesslate.Build.Platform;

/// <summary>How a target uses the environment's cluster, as far as this run's parameters say.</summary>
public enum ClusterUse
{
    None,

    /// <summary>Talks to the API server: Preflight checks the role and the API server first.</summary>
    Reads,

    /// <summary>
    /// Changes what runs in the cluster or what the environment tag names: the deploy lock, the cluster permission check,
    /// the release history and the production approval follow.
    /// </summary>
    Changes,
}

/// <summary>
/// The target uses the environment's cluster; <paramref name="Use"/> is read once the parameters are bound (BuildImages
/// changes the cluster only with --promote, Reload only when it applies the overlay). Refused on shared.
/// </summary>
public sealed record UsesCluster(Func<ClusterUse> Use) : ITargetFact
{
    public static UsesCluster Reading { get; } = new(() => ClusterUse.Reads);

    public static UsesCluster Changing { get; } = new(() => ClusterUse.Changes);
}

/// <summary>The target works on the environment's images (source, registry, builds). Refused on shared, which has none.</summary>
public sealed record UsesImages : ITargetFact
{
    public static UsesImages Instance { get; } = new();
}

/// <summary>The target applies the environment's Terraform stack: a change of the environment, when it has a stack.</summary>
public sealed record AppliesTerraform : ITargetFact
{
    public static AppliesTerraform Instance { get; } = new();
}

/// <summary>The target starts this tool (when <paramref name="When"/> holds): Preflight checks it before any side effect.</summary>
public sealed record StartsTool(string Tool, Func<bool>? When = null) : ITargetFact
{
    public bool Applies => When?.Invoke() ?? true;
}

/// <summary>
/// The target pushes or changes the environment only after the release plan's preparation (the cluster permission
/// check, the deploy lock, the approval), which runs once per run, even under --skip ReleasePlan.
/// </summary>
public sealed record GuardedByReleasePlan : ITargetFact
{
    public static GuardedByReleasePlan Instance { get; } = new();
}

/// <summary>Judgements derived from the facts of the targets a run schedules (pure, given the bound parameters).</summary>
public static class TargetFacts
{
    /// <summary>The tools the targets start, each once, in a stable order.</summary>
    public static IReadOnlyList<string> Tools(IEnumerable<BuildTarget> scheduled) =>
        [.. scheduled.SelectMany(t => t.FactsOf<StartsTool>()).Where(f => f.Applies).Select(f => f.Tool).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>How the targets together use the cluster: the strongest use any of them makes.</summary>
    public static ClusterUse Cluster(IEnumerable<BuildTarget> scheduled) =>
        scheduled.SelectMany(t => t.FactsOf<UsesCluster>()).Select(f => f.Use()).DefaultIfEmpty(ClusterUse.None).Max();

    /// <summary>Whether the target needs an environment with workloads (images or a cluster): shared has neither.</summary>
    public static bool NeedsWorkloads(BuildTarget target) => target.FactsOf<UsesImages>().Any() || target.FactsOf<UsesCluster>().Any();

    public static bool IsGuarded(BuildTarget target) => target.FactsOf<GuardedByReleasePlan>().Any();
}
