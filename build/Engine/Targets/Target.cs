using System.Runtime.CompilerServices;

namespace Tesslate.Build.Engine;

/// <summary>A target, written NUKE's way: <c>Target Deploy => _ => _.DependsOn(BuildImages).Executes(...)</c>.</summary>
public delegate ITargetDefinition Target(ITargetDefinition definition);

public interface ITargetDefinition
{
    ITargetDefinition Description(string description);

    /// <summary>Execution dependency: each target runs before this one and is pulled into the plan.</summary>
    ITargetDefinition DependsOn(params Target[] targets);

    /// <summary>Ordering only: if both are planned, this runs after them. Nothing is pulled in.</summary>
    ITargetDefinition After(params Target[] targets);

    /// <summary>Ordering only: if both are planned, this runs before them. Nothing is pulled in.</summary>
    ITargetDefinition Before(params Target[] targets);


    /// <summary>Evaluated for every planned target before anything runs; false skips the target (and cascades).</summary>
    ITargetDefinition OnlyWhen(Func<bool> condition, [CallerArgumentExpression(nameof(condition))] string? reason = null);

    /// <summary>Evaluated just before the target would run, after its dependencies.</summary>
    ITargetDefinition OnlyWhenDynamic(Func<bool> condition, [CallerArgumentExpression(nameof(condition))] string? reason = null);

    /// <summary>A value that must be present (a parameter: not null, not blank, not an empty list) before anything runs.</summary>
    ITargetDefinition Requires(Func<object?> value, [CallerArgumentExpression(nameof(value))] string? member = null);

    /// <summary>
    /// A condition that must hold before anything runs; <paramref name="problem"/> says what is wrong, <paramref name="fix"/>
    /// what to do instead (without one, the generic hint about missing values and --skip is shown).
    /// </summary>
    ITargetDefinition Requires(Func<bool> condition, string problem, string? fix = null);

    ITargetDefinition Executes(Func<CancellationToken, Task> action);

    ITargetDefinition Executes(Action action);



    /// <summary>How the summary describes partial work if this target is interrupted (e.g. "the state may be partially applied").</summary>
    ITargetDefinition PartialWorkOnInterrupt(string description);

    /// <summary>
    /// Safety work: <c>--skip</c> (by name, alone, or through a skipped dependent) never skips it while it is in the plan;
    /// <paramref name="why"/> says what it protects. Its own static conditions still apply.
    /// </summary>
    ITargetDefinition Safeguard(string why);

    /// <summary>
    /// Facts about what the target does, typed by the build that declares them (the engine stores them and gives them no
    /// meaning): the build derives from them its requirements (<see cref="BuildBase"/>'s <c>RequirementsOf</c>), the work
    /// before the target's actions (<c>BeforeTargetAsync</c>) and whatever else it judges from the plan.
    /// </summary>
    ITargetDefinition Is(params ITargetFact[] facts);
}

/// <summary>A typed fact about a target (see <see cref="ITargetDefinition.Is"/>).</summary>
public interface ITargetFact;
