using System.Reflection;

namespace Tesslate.Build.Engine;

/// <summary>One target with its references resolved to other <see cref="BuildTarget"/>s.</summary>
public sealed class BuildTarget
{
    internal BuildTarget(string name, TargetDefinition definition, int declarationOrder)
    {
        Name = name;
        Definition = definition;
        DeclarationOrder = declarationOrder;
    }

    public string Name { get; }
    public string? Description => Definition.DescriptionText;
    public int DeclarationOrder { get; }
    public IReadOnlyList<BuildTarget> Dependencies { get; internal set; } = [];
    public IReadOnlyList<BuildTarget> OrderedAfter { get; internal set; } = [];
    internal TargetDefinition Definition { get; }

    /// <summary>The facts declared with <see cref="ITargetDefinition.Is"/>.</summary>
    public IReadOnlyList<ITargetFact> Facts => Definition.Facts;

    /// <summary>The declared facts of type <typeparamref name="TFact"/>.</summary>
    public IEnumerable<TFact> FactsOf<TFact>() where TFact : ITargetFact => Definition.Facts.OfType<TFact>();

    public override string ToString() => Name;
}

/// <summary>All targets of a build class, discovered from its <see cref="Target"/> properties, with references resolved.</summary>
public sealed class TargetGraph
{
    private readonly Dictionary<string, BuildTarget> _byName;

    private TargetGraph(IReadOnlyList<BuildTarget> targets)
    {
        Targets = targets;
        _byName = targets.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyList<BuildTarget> Targets { get; }

    public BuildTarget? Find(string name) =>
        _byName.GetValueOrDefault(name) ?? _byName.GetValueOrDefault(name.Replace("-", "", StringComparison.Ordinal));

    /// <summary>Discovers the Target properties of <paramref name="build"/> and validates the graph (self references, cycles).</summary>
    public static TargetGraph Create(object build)
    {
        // Plain loops, no (name, delegate) tuples: generic code over tuples is compiled by the JIT at start.
        // BuildBase declares no targets: its properties' types (the logger's) would only load assemblies to be refused.
        var names = new List<string>();
        var factories = new List<Target>();
        for (var type = build.GetType(); type is not null && type != typeof(BuildBase) && type != typeof(object); type = type.BaseType)
        {
            foreach (var property in type.GetProperties(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (property.PropertyType != typeof(Target) || property.GetIndexParameters().Length != 0 || names.Contains(property.Name))
                    continue;
                names.Add(property.Name);
                factories.Add((Target)property.GetValue(build)!);
            }
        }
        return Create(names, factories);
    }

    /// <summary>Builds a graph from named target delegates (tests use this directly).</summary>
    public static TargetGraph Create(IEnumerable<(string Name, Target Factory)> declared)
    {
        var list = declared.ToList();
        return Create([.. list.Select(d => d.Name)], [.. list.Select(d => d.Factory)]);
    }

    private static TargetGraph Create(List<string> names, List<Target> factories)
    {
        // A Target property returns a new delegate on every read; the lambda's method identifies the target.
        var byMethod = new Dictionary<MethodInfo, BuildTarget>();
        var targets = new List<BuildTarget>();
        for (var i = 0; i < names.Count; i++)
        {
            var (name, factory) = (names[i], factories[i]);
            var definition = new TargetDefinition();
            factory(definition);
            var target = new BuildTarget(name, definition, targets.Count);
            targets.Add(target);
            byMethod[factory.Method] = target;
        }

        BuildTarget Resolve(BuildTarget owner, Target reference) =>
            byMethod.TryGetValue(reference.Method, out var found)
                ? found
                : throw new InvalidOperationException($"Target '{owner.Name}' refers to a target that is not a Target property of the build.");

        foreach (var target in targets)
        {
            var d = target.Definition;
            target.Dependencies = [.. d.Dependencies.Select(r => Resolve(target, r)).Distinct()];
            if (target.Dependencies.Contains(target))
                throw new UsageException($"Target '{target.Name}' cannot have a dependency on itself.");
        }

        // Every edge is stored once on the target that runs later: "after" (and Before reversed).
        var after = targets.ToDictionary(t => t, _ => new HashSet<BuildTarget>());
        foreach (var target in targets)
        {
            var d = target.Definition;
            foreach (var other in d.AfterTargets.Select(r => Resolve(target, r)))
                after[target].Add(other);
            foreach (var other in d.BeforeTargets.Select(r => Resolve(target, r)))
                after[other].Add(target);
        }
        foreach (var target in targets)
        {
            target.OrderedAfter = [.. after[target].Except(target.Dependencies)];
        }

        var graph = new TargetGraph(targets);
        if (FindCycle(targets) is { } cycle)
            throw new UsageException(
                $"Circular dependencies between targets: {string.Join(" -> ", cycle.Select(t => t.Name))}.",
                "Remove one of the DependsOn/After/Before edges on that cycle.");
        return graph;
    }

    /// <summary>All edges that order a target after another: dependencies, After/Before and triggers.</summary>
    internal static IEnumerable<BuildTarget> Predecessors(BuildTarget target) => target.Dependencies.Concat(target.OrderedAfter);

    private static List<BuildTarget>? FindCycle(IReadOnlyList<BuildTarget> targets)
    {
        // By declaration order (each target's index): no dictionary or LINQ sort of value types to compile at start.
        var state = new int[targets.Count]; // 1 = on the stack, 2 = done
        var stack = new List<BuildTarget>();
        List<BuildTarget>? Visit(BuildTarget target)
        {
            state[target.DeclarationOrder] = 1;
            stack.Add(target);
            var predecessors = new List<BuildTarget>(Predecessors(target));
            predecessors.Sort(static (a, b) => a.DeclarationOrder - b.DeclarationOrder);
            foreach (var next in predecessors)
            {
                if (state[next.DeclarationOrder] == 1)
                    return [.. stack.Skip(stack.IndexOf(next)), next];
                if (state[next.DeclarationOrder] == 0 && Visit(next) is { } cycle)
                    return cycle;
            }
            stack.RemoveAt(stack.Count - 1);
            state[target.DeclarationOrder] = 2;
            return null;
        }
        foreach (var target in targets)
        {
            if (state[target.DeclarationOrder] == 0 && Visit(target) is { } cycle)
                return cycle;
        }
        return null;
    }
}
