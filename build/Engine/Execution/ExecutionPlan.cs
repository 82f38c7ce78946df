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
        // Plain loops: --plan runs this on every start, and LINQ over (target, level) pairs is compiled at run time.
        var level = new Dictionary<PlannedTarget, int>();
        var waves = new List<List<PlannedTarget>>();
        foreach (var planned in Targets)
        {
            if (planned.Status == TargetStatus.Skipped)
                continue;
            var wave = 0;
            foreach (var before in ThroughSkipped(planned.Target, TargetGraph.Predecessors))
            {
                if (before.Status != TargetStatus.Skipped)
                    wave = Math.Max(wave, level[before] + 1);
            }
            level[planned] = wave;
            while (waves.Count <= wave)
                waves.Add([]);
            waves[wave].Add(planned);
        }
        var result = new List<IReadOnlyList<PlannedTarget>>();
        foreach (var wave in waves)
        {
            if (wave.Count > 0)
                result.Add(wave);
        }
        return result;
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
