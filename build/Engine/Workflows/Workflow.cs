using System.Collections.Immutable;

namespace Tesslate.Build.Engine.Workflows;

/// <summary>
/// One GitHub Actions workflow file, typed: what NUKE's attribute cannot say (typed dispatch inputs, job-level
/// permissions, needs, matrices, environments, custom steps) is plain data here, validated before it is written.
/// Dictionaries are written in their enumeration order, so declare them in the order a reader expects.
/// </summary>
public sealed record Workflow(string FileName, string Name)
{
    /// <summary>Shown for each run (<c>run-name</c>); may use expressions.</summary>
    public string? RunName { get; init; }

    public WorkflowTriggers On { get; init; } = new();

    public Permissions? Permissions { get; init; }

    public Concurrency? Concurrency { get; init; }

    public IReadOnlyDictionary<string, string> Env { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary><c>defaults.run.shell</c> for every job.</summary>
    public string? DefaultShell { get; init; }

    public ImmutableArray<Job> Jobs { get; init; } = [];
}

public sealed record WorkflowTriggers
{
    public PushTrigger? Push { get; init; }

    public PullRequestTrigger? PullRequest { get; init; }

    public WorkflowDispatchTrigger? WorkflowDispatch { get; init; }

    /// <summary>Cron expressions for <c>schedule</c>.</summary>
    public ImmutableArray<string> Schedules { get; init; } = [];

    public bool IsEmpty => Push is null && PullRequest is null && WorkflowDispatch is null && Schedules.IsDefaultOrEmpty;
}

public sealed record PushTrigger
{
    public ImmutableArray<string> Branches { get; init; } = [];

    public ImmutableArray<string> Tags { get; init; } = [];

    public ImmutableArray<string> Paths { get; init; } = [];

    public ImmutableArray<string> PathsIgnore { get; init; } = [];
}

public sealed record PullRequestTrigger
{
    /// <summary>Activity types (<c>opened</c>, <c>synchronize</c>…); empty means GitHub's default set.</summary>
    public ImmutableArray<string> Types { get; init; } = [];

    public ImmutableArray<string> Branches { get; init; } = [];

    public ImmutableArray<string> Paths { get; init; } = [];

    public ImmutableArray<string> PathsIgnore { get; init; } = [];
}

public sealed record WorkflowDispatchTrigger
{
    public WorkflowDispatchTrigger(params IEnumerable<WorkflowInput> inputs) => Inputs = [.. inputs];

    public ImmutableArray<WorkflowInput> Inputs { get; init; }
}

public enum WorkflowInputType
{
    String,
    Boolean,
    Choice,
    Number,
    Environment,
}

/// <summary>
/// A typed <c>workflow_dispatch</c> input. <see cref="Default"/> holds a string, a bool (boolean) or a number (number),
/// so the YAML says <c>default: false</c> rather than the string <c>'false'</c>.
/// </summary>
public sealed record WorkflowInput(string Name, string Description, WorkflowInputType Type)
{
    public bool Required { get; init; }

    public object? Default { get; init; }

    /// <summary>The options of a <see cref="WorkflowInputType.Choice"/> input, in display order.</summary>
    public ImmutableArray<string> Options { get; init; } = [];

    public static WorkflowInput String(string name, string description, string? defaultValue = null, bool required = false) =>
        new(name, description, WorkflowInputType.String) { Default = defaultValue, Required = required };

    public static WorkflowInput Boolean(string name, string description, bool defaultValue = false) =>
        new(name, description, WorkflowInputType.Boolean) { Default = defaultValue };

    public static WorkflowInput Number(string name, string description, double? defaultValue = null, bool required = false) =>
        new(name, description, WorkflowInputType.Number) { Default = defaultValue, Required = required };

    public static WorkflowInput Choice(string name, string description, IEnumerable<string> options, string? defaultValue = null, bool required = true) =>
        new(name, description, WorkflowInputType.Choice) { Options = [.. options], Default = defaultValue, Required = required };

    /// <summary>A choice whose options are an enum's members, written the way the CLI accepts them (lower case by default).</summary>
    public static WorkflowInput Choice<TEnum>(string name, string description, TEnum? defaultValue = null, Func<TEnum, string>? format = null)
        where TEnum : struct, Enum
    {
        format ??= value => value.ToString().ToLowerInvariant();
        return Choice(name, description, Enum.GetValues<TEnum>().Select(format), defaultValue is { } d ? format(d) : null);
    }

    /// <summary>A GitHub environment picker: offers the repository's environments, does not enforce their rules by itself.</summary>
    public static WorkflowInput Environment(string name, string description, string? defaultValue = null, bool required = true) =>
        new(name, description, WorkflowInputType.Environment) { Default = defaultValue, Required = required };

    /// <summary>
    /// The input a build parameter becomes, with its name, description and default: bool → boolean, enum → choice (its
    /// values as the CLI accepts them), numbers → number, anything else (lists too, comma-separated) → string. This is
    /// what keeps a parameter's type across the CLI and the Actions UI. Secrets are refused: inputs are shown in the UI
    /// and in the run's event payload.
    /// </summary>
    public static WorkflowInput ForParameter(ParameterDescriptor parameter)
    {
        if (parameter.IsSecret)
            throw new ArgumentException($"Parameter {parameter.Flag} is a secret and cannot be a workflow_dispatch input; pass it as an Actions secret instead.", nameof(parameter));
        var (name, description, type, value) = (parameter.Name, parameter.Description, parameter.ElementType, parameter.DefaultValue);
        if (parameter.IsFlag)
            return Boolean(name, description, value is true);
        if (type.IsEnum && !parameter.IsList)
            return Choice(name, description, parameter.AllowedValues!, value is null ? null : ParameterDescriptor.Display(value), required: value is null);
        if (!parameter.IsList && (type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(decimal)))
            return Number(name, description, value is null ? null : Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
        return String(name, description, value is null ? null : ParameterDescriptor.Display(value));
    }
}

public enum PermissionScope
{
    Actions,
    Attestations,
    Checks,
    Contents,
    Deployments,
    Discussions,
    IdToken,
    Issues,
    Models,
    Packages,
    Pages,
    PullRequests,
    RepositoryProjects,
    SecurityEvents,
    Statuses,
}

public enum PermissionLevel
{
    None,
    Read,
    Write,
}

/// <summary>
/// A <c>permissions:</c> block. Scopes not listed get no access, which is why every job should say what it needs.
/// <see cref="Empty"/> is written as <c>permissions: {}</c> (no access at all).
/// </summary>
public sealed record Permissions
{
    public static Permissions Empty { get; } = new();

    public ImmutableSortedDictionary<PermissionScope, PermissionLevel> Scopes { get; init; } = ImmutableSortedDictionary<PermissionScope, PermissionLevel>.Empty;

    public Permissions With(PermissionScope scope, PermissionLevel level) => this with { Scopes = Scopes.SetItem(scope, level) };

    public Permissions Read(params PermissionScope[] scopes) => scopes.Aggregate(this, (p, s) => p.With(s, PermissionLevel.Read));

    public Permissions Write(params PermissionScope[] scopes) => scopes.Aggregate(this, (p, s) => p.With(s, PermissionLevel.Write));

    public static string KeyOf(PermissionScope scope) => scope switch
    {
        PermissionScope.IdToken => "id-token",
        PermissionScope.PullRequests => "pull-requests",
        PermissionScope.RepositoryProjects => "repository-projects",
        PermissionScope.SecurityEvents => "security-events",
        _ => scope.ToString().ToLowerInvariant(),
    };

    public static string ValueOf(PermissionLevel level) => level.ToString().ToLowerInvariant();
}

public sealed record Concurrency(string Group, bool CancelInProgress);

/// <summary>A job's <c>environment:</c>: its protection rules (required reviewers, branch rules) gate the job.</summary>
/// <param name="Deployment">
/// <c>false</c>: GitHub creates no deployment object for the job (reviewers and wait timers still gate it), for a job
/// that records its deployment itself; null: GitHub's default, a deployment per job.
/// </param>
public sealed record JobEnvironment(string Name, string? Url = null, bool? Deployment = null);

public sealed record JobStrategy
{
    /// <summary>Matrix axes in declaration order; each value list becomes a YAML sequence.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Matrix { get; init; } = ImmutableDictionary<string, IReadOnlyList<string>>.Empty;

    /// <summary>A whole-matrix expression instead of axes, e.g. <c>${{ fromJSON(needs.plan.outputs.matrix) }}</c>.</summary>
    public string? MatrixExpression { get; init; }

    public bool? FailFast { get; init; }

    public int? MaxParallel { get; init; }
}

public sealed record Job(string Id)
{
    public string? Name { get; init; }

    /// <summary>One label is written as a scalar, several as a list.</summary>
    public ImmutableArray<string> RunsOn { get; init; } = ["ubuntu-latest"];

    public ImmutableArray<string> Needs { get; init; } = [];

    public string? If { get; init; }

    public Permissions? Permissions { get; init; }

    public JobEnvironment? Environment { get; init; }

    public Concurrency? Concurrency { get; init; }

    public int? TimeoutMinutes { get; init; }

    public JobStrategy? Strategy { get; init; }

    public IReadOnlyDictionary<string, string> Outputs { get; init; } = ImmutableDictionary<string, string>.Empty;

    public IReadOnlyDictionary<string, string> Env { get; init; } = ImmutableDictionary<string, string>.Empty;

    public string? DefaultShell { get; init; }

    public string? DefaultWorkingDirectory { get; init; }

    public ImmutableArray<Step> Steps { get; init; } = [];
}

/// <summary>An action, pinned to a full commit, with the release tag kept for readers (<c>uses: o/r@sha # v1.2.3</c>).</summary>
public sealed record ActionReference(string Repository, string Commit, string Tag)
{
    public string Uses => $"{Repository}@{Commit}";
}

public sealed record Step
{
    public string? Name { get; init; }

    public string? Id { get; init; }

    public string? If { get; init; }

    public string? Uses { get; init; }

    /// <summary>Written as a comment after <c>uses:</c>, e.g. the release tag of a pinned commit.</summary>
    public string? UsesComment { get; init; }

    public IReadOnlyDictionary<string, string> With { get; init; } = ImmutableDictionary<string, string>.Empty;

    public string? Run { get; init; }

    public string? Shell { get; init; }

    public string? WorkingDirectory { get; init; }

    public IReadOnlyDictionary<string, string> Env { get; init; } = ImmutableDictionary<string, string>.Empty;

    public bool ContinueOnError { get; init; }

    public int? TimeoutMinutes { get; init; }

    public static Step Action(string name, ActionReference action, IReadOnlyDictionary<string, string>? with = null) =>
        new() { Name = name, Uses = action.Uses, UsesComment = action.Tag, With = with ?? ImmutableDictionary<string, string>.Empty };

    public static Step Script(string name, string run, IReadOnlyDictionary<string, string>? env = null) =>
        new() { Name = name, Run = run, Env = env ?? ImmutableDictionary<string, string>.Empty };
}
