namespace Tesslate.Build.Engine;

public sealed record Condition(Func<bool> Evaluate, string Reason);

public sealed record Requirement(Func<bool> IsMet, string Problem, string? Fix = null);

/// <summary>The collected declaration of one target; <see cref="TargetGraph"/> resolves the target references.</summary>
internal sealed class TargetDefinition : ITargetDefinition
{
    public string? DescriptionText { get; private set; }
    public List<Target> Dependencies { get; } = [];
    public List<Target> AfterTargets { get; } = [];
    public List<Target> BeforeTargets { get; } = [];
    public List<Condition> StaticConditions { get; } = [];
    public List<Condition> DynamicConditions { get; } = [];
    public List<(Func<object?> Value, string Member)> RequiredValues { get; } = [];
    public List<Requirement> RequiredConditions { get; } = [];
    public List<Func<CancellationToken, Task>> Actions { get; } = [];
    public string? PartialWork { get; private set; }
    public string? SafeguardReason { get; private set; }
    public List<ITargetFact> Facts { get; } = [];

    public ITargetDefinition Description(string description) => Set(() => DescriptionText = description);
    public ITargetDefinition DependsOn(params Target[] targets) => Set(() => Dependencies.AddRange(targets));
    public ITargetDefinition After(params Target[] targets) => Set(() => AfterTargets.AddRange(targets));
    public ITargetDefinition Before(params Target[] targets) => Set(() => BeforeTargets.AddRange(targets));
    public ITargetDefinition OnlyWhen(Func<bool> condition, string? reason = null) => Set(() => StaticConditions.Add(new(condition, CleanExpression(reason))));
    public ITargetDefinition OnlyWhenDynamic(Func<bool> condition, string? reason = null) => Set(() => DynamicConditions.Add(new(condition, CleanExpression(reason))));
    public ITargetDefinition Requires(Func<object?> value, string? member = null) => Set(() => RequiredValues.Add((value, CleanExpression(member))));
    public ITargetDefinition Requires(Func<bool> condition, string problem, string? fix = null) => Set(() => RequiredConditions.Add(new(condition, problem, fix)));
    public ITargetDefinition Executes(Func<CancellationToken, Task> action) => Set(() => Actions.Add(action));
    public ITargetDefinition Executes(Action action) => Set(() => Actions.Add(_ => { action(); return Task.CompletedTask; }));
    public ITargetDefinition PartialWorkOnInterrupt(string description) => Set(() => PartialWork = description);
    public ITargetDefinition Safeguard(string why) => Set(() => SafeguardReason = why);
    public ITargetDefinition Is(params ITargetFact[] facts) => Set(() => Facts.AddRange(facts));

    private TargetDefinition Set(Action change)
    {
        change();
        return this;
    }

    // "() => SourceRoot" reads better as "SourceRoot".
    internal static string CleanExpression(string? expression)
    {
        var text = (expression ?? "condition").Trim();
        return text.StartsWith("() =>", StringComparison.Ordinal) ? text[5..].Trim() : text;
    }
}
