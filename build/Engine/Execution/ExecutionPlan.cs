namespace Tesslate.Build.Engine;

public sealed class PlannedTarget(BuildTarget target, bool invoked)
{
    public BuildTarget Target { get; } = target;
    public string Name => Target.Name;
    public bool Invoked { get; } = invoked;
    public TargetStatus Status { get; internal set; } = TargetStatus.Scheduled;
    public string? Note { get; internal set; }
    public TimeSpan Duration { get; internal set; }
    public Exception? Failure { get; internal set; }
    public List<string> Details { get; } = [];

    public override string ToString() => $"{Name}: {Status}{(Note is null ? "" : $" ({Note})")}";
}

/// <summary>The targets a run will consider, in a valid order, with skip decisions already taken.</summary>
public sealed class ExecutionPlan
{
    internal ExecutionPlan(IReadOnlyList<PlannedTarget> targets) => Targets = targets;

    public IReadOnlyList<PlannedTarget> Targets { get; }

    public PlannedTarget? this[string name] => Targets.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));

    internal PlannedTarget Of(BuildTarget target) => Targets.First(t => t.Target == target);

    internal bool Contains(BuildTarget target) => Targets.Any(t => t.Target == target);

    /// <summary>
    /// Targets grouped by how early they can start: each wave only waits for earlier waves, judged as the scheduler
    /// judges (<see cref="ThroughSkipped"/>).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<PlannedTarget>> Waves()
    {
        var level = new Dictionary<PlannedTarget, int>();
        foreach (var planned in Targets.Where(t => t.Status != TargetStatus.Skipped))
        {
            level[planned] = ThroughSkipped(planned.Target, TargetGraph.Predecessors)
                .Where(p => p.Status != TargetStatus.Skipped).Select(p => level[p] + 1).DefaultIfEmpty(0).Max();
        }
        return [.. level.GroupBy(p => p.Value).OrderBy(g => g.Key).Select(g => (IReadOnlyList<PlannedTarget>)[.. g.Select(p => p.Key)])];
    }

    /// <summary>
    /// The planned targets <paramref name="next"/> names, and behind each skipped one what it would have waited for: a
    /// skipped target keeps its place in the order (Deploy after a skipped SeedApps still comes after WaitRollout).
    /// </summary>
    internal IEnumerable<PlannedTarget> ThroughSkipped(BuildTarget target, Func<BuildTarget, IEnumerable<BuildTarget>> next, HashSet<BuildTarget>? seen = null)
    {
        seen ??= [];
        foreach (var planned in next(target).Where(Contains).Select(Of))
        {
            if (!seen.Add(planned.Target))
                continue;
            yield return planned;
            if (planned.Status == TargetStatus.Skipped)
                foreach (var behind in ThroughSkipped(planned.Target, next, seen))
                    yield return behind;
        }
    }
}
