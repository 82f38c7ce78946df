namespace Tesslate.Build.Engine;

/// <summary>
/// NUKE's planning rules, in one place: invoked targets (or the defaults) pull in their dependencies;
/// the order follows DependsOn/After/Before with declaration order breaking ties; then --skip, static
/// conditions (each skip cascading to dependencies no other scheduled target needs), then requirements.
/// </summary>
public static class ExecutionPlanner
{
    /// <param name="skip">null: no --skip; empty: skip every target that was not invoked; names: skip those.</param>
    public static ExecutionPlan Plan(TargetGraph graph, IReadOnlyList<string> invokedNames, IReadOnlyList<string> defaultTargets, IReadOnlyList<string>? skip)
    {
        var invoked = (invokedNames.Count > 0 ? invokedNames : defaultTargets).Select(name => Resolve(graph, name)).Distinct().ToList();
        if (invoked.Count == 0)
            throw new UsageException("No target was given and the build has no default target.", "Name a target, e.g. ./build.sh Deploy, or see ./build.sh --help.");

        var included = new HashSet<BuildTarget>();
        void Include(BuildTarget target)
        {
            if (!included.Add(target))
                return;
            foreach (var next in target.Dependencies)
                Include(next);
        }
        invoked.ForEach(Include);

        var plan = new ExecutionPlan([.. Order(included).Select(t => new PlannedTarget(t, invoked.Contains(t)))]);
        ApplySkips(graph, plan, skip);
        return plan;
    }

    /// <summary>Requirements of every target still scheduled, all reported at once, before anything runs.</summary>
    /// <param name="derived">Requirements the build derives from a target's facts, checked like the declared ones.</param>
    public static IReadOnlyList<string> UnmetRequirements(ExecutionPlan plan, Func<string, string> describeMember, Func<BuildTarget, IEnumerable<Requirement>>? derived = null)
    {
        var problems = new List<string>();
        foreach (var planned in plan.Targets.Where(t => t.Status == TargetStatus.Scheduled))
        {
            foreach (var (value, member) in planned.Target.Definition.RequiredValues)
            {
                if (IsMissing(value()))
                    problems.Add($"Target '{planned.Name}' requires {describeMember(member)}.");
            }
            foreach (var requirement in Conditions(planned.Target, derived).Where(r => !r.IsMet()))
                problems.Add($"Target '{planned.Name}': {requirement.Problem}");
        }
        return problems;
    }

    /// <summary>
    /// The fix the unmet requirements name themselves, when each of them is a condition that names one; null when a
    /// value is missing or a condition has no fix of its own (the caller's generic hint applies then).
    /// </summary>
    public static string? UnmetFix(ExecutionPlan plan, Func<BuildTarget, IEnumerable<Requirement>>? derived = null)
    {
        var scheduled = plan.Targets.Where(t => t.Status == TargetStatus.Scheduled).Select(t => t.Target).ToList();
        if (scheduled.Any(t => t.Definition.RequiredValues.Any(r => IsMissing(r.Value()))))
            return null;
        var fixes = scheduled.SelectMany(t => Conditions(t, derived)).Where(r => !r.IsMet()).Select(r => r.Fix).Distinct().ToList();
        return fixes.Count > 0 && fixes.All(f => f is not null) ? string.Join(" ", fixes) : null;
    }

    private static IEnumerable<Requirement> Conditions(BuildTarget target, Func<BuildTarget, IEnumerable<Requirement>>? derived) =>
        derived is null ? target.Definition.RequiredConditions : target.Definition.RequiredConditions.Concat(derived(target));

    public static BuildTarget Resolve(TargetGraph graph, string name) =>
        graph.Find(name) ?? throw new UsageException(
            $"Target '{name}' does not exist.{Suggestions.DidYouMean(name, graph.Targets.Select(t => t.Name))}",
            $"Available targets: {string.Join(", ", graph.Targets.Select(t => t.Name).Order(StringComparer.Ordinal))}.");

    private static bool IsMissing(object? value) => value switch
    {
        null => true,
        string text => string.IsNullOrWhiteSpace(text),
        System.Collections.ICollection collection => collection.Count == 0,
        _ => false,
    };

    // Kahn's algorithm; among the targets that are ready, the one declared first goes first, so plans are stable.
    // Plain loops (no LINQ over key-value pairs): every --plan runs this, and generic code over value types is
    // compiled at start (docs/bootstrap.md, "Start").
    private static List<BuildTarget> Order(HashSet<BuildTarget> included)
    {
        var waiting = new Dictionary<BuildTarget, HashSet<BuildTarget>>();
        foreach (var target in included)
        {
            var predecessors = new HashSet<BuildTarget>();
            foreach (var predecessor in TargetGraph.Predecessors(target))
            {
                if (included.Contains(predecessor))
                    predecessors.Add(predecessor);
            }
            waiting[target] = predecessors;
        }
        var ordered = new List<BuildTarget>();
        while (waiting.Count > 0)
        {
            BuildTarget? next = null;
            foreach (var (target, predecessors) in waiting)
            {
                if (predecessors.Count == 0 && (next is null || target.DeclarationOrder < next.DeclarationOrder))
                    next = target;
            }
            ordered.Add(next!);
            waiting.Remove(next!);
            foreach (var predecessors in waiting.Values)
                predecessors.Remove(next!);
        }
        return ordered;
    }

    private static void ApplySkips(TargetGraph graph, ExecutionPlan plan, IReadOnlyList<string>? skip)
    {
        if (skip is not null)
        {
            var named = skip.Select(name => Resolve(graph, name)).ToHashSet();
            foreach (var planned in plan.Targets.Where(t => !t.Invoked && (skip.Count == 0 || named.Contains(t.Target))))
                Skip(plan, planned, skip.Count == 0 ? "--skip (every target not invoked)" : "--skip");
            foreach (var kept in plan.Targets.Where(t => t.Status == TargetStatus.Scheduled && t.Target.Definition.SafeguardReason is not null
                && (skip.Count == 0 || named.Contains(t.Target))))
                kept.Note = $"runs despite --skip: {kept.Target.Definition.SafeguardReason}";
        }

        foreach (var planned in plan.Targets)
        {
            if (planned.Status != TargetStatus.Scheduled)
                continue;
            var failed = planned.Target.Definition.StaticConditions.FirstOrDefault(c => !c.Evaluate());
            if (failed is not null)
                Skip(plan, planned, failed.Reason, condition: true);
        }
    }

    private static void Skip(ExecutionPlan plan, PlannedTarget planned, string reason, bool condition = false)
    {
        if (planned.Status == TargetStatus.Skipped || (!condition && planned.Target.Definition.SafeguardReason is not null))
            return;
        planned.Status = TargetStatus.Skipped;
        planned.Note = reason;
        foreach (var next in planned.Target.Dependencies.Where(plan.Contains).Select(plan.Of))
        {
            if (next.Status != TargetStatus.Scheduled || next.Invoked)
                continue;
            var stillNeeded = plan.Targets.Any(other => other.Status == TargetStatus.Scheduled && other != next
                && other.Target.Dependencies.Contains(next.Target));
            if (!stillNeeded)
                Skip(plan, next, $"because {planned.Name} is skipped");
        }
    }
}
