using System.Globalization;
using System.Text.RegularExpressions;

namespace Tesslate.Build.Engine.Workflows;

/// <summary>
/// Checks a declaration before anything is written: the mistakes GitHub would only report after a push
/// (unknown needs, cycles, bad input names, too many inputs, a step with both uses and run) fail here,
/// naming the workflow and the job.
/// </summary>
public static partial class WorkflowValidator
{
    /// <summary>GitHub's limit on <c>workflow_dispatch</c> inputs.</summary>
    // "The maximum number of top-level properties for inputs is 25" (docs.github.com, workflow syntax,
    // #onworkflow_dispatchinputs; raised from 10 on 2025-12-04, github.blog/changelog/2025-12-04-actions-workflow-dispatch-workflows-now-support-25-inputs).
    public const int MaxDispatchInputs = 25;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]*$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^[A-Za-z0-9_.-]+\\.ya?ml$")]
    private static partial Regex FileNamePattern();

    // owner/repo[/path]@<40 hex>: a tag or branch can be moved, a commit cannot.
    [GeneratedRegex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@[0-9a-f]{40}$")]
    private static partial Regex PinnedActionPattern();

    public static bool IsIdentifier(string name) => IdentifierPattern().IsMatch(name);

    /// <summary>All problems found, each naming the workflow (and job, step or input); empty when valid.</summary>
    public static IReadOnlyList<string> Problems(Workflow workflow, bool requirePinnedActions = true)
    {
        var problems = new List<string>();
        var where = $"workflow '{workflow.FileName}'";
        void Add(string problem) => problems.Add($"{where}: {problem}");

        if (!FileNamePattern().IsMatch(workflow.FileName))
            Add("the file name must be a plain name ending in .yml or .yaml (letters, digits, '.', '-', '_').");
        if (string.IsNullOrWhiteSpace(workflow.Name))
            Add("the workflow has no name.");
        if (workflow.On.IsEmpty)
            Add("no trigger is declared (push, pull_request, workflow_dispatch or schedule).");
        CheckInputs(workflow, Add);
        CheckPermissions(workflow.Permissions, "workflow permissions", Add);
        if (workflow.Concurrency is { Group: var group } && string.IsNullOrWhiteSpace(group))
            Add("the concurrency group is empty.");

        if (workflow.Jobs.IsDefaultOrEmpty)
        {
            Add("it declares no jobs.");
            return problems;
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var job in workflow.Jobs)
        {
            if (!IsIdentifier(job.Id))
                Add($"job id '{job.Id}' is not valid: use letters, digits, '-' and '_', starting with a letter or '_'.");
            if (!ids.Add(job.Id))
                Add($"job '{job.Id}' is declared twice.");
        }

        foreach (var job in workflow.Jobs)
            CheckJob(job, ids, requirePinnedActions, problem => Add($"job '{job.Id}': {problem}"));

        if (FindCycle(workflow.Jobs) is { } cycle)
            Add($"jobs need each other in a cycle: {string.Join(" → ", cycle)}.");
        return problems;
    }

    /// <summary>Throws a <see cref="BuildFailure"/> listing every problem of every workflow, or returns when all are valid.</summary>
    public static void Validate(IEnumerable<Workflow> workflows, bool requirePinnedActions = true)
    {
        var list = workflows.ToList();
        var problems = list.SelectMany(w => Problems(w, requirePinnedActions)).ToList();
        foreach (var duplicate in list.GroupBy(w => w.FileName, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
            problems.Add($"workflow '{duplicate.Key}' is declared {duplicate.Count()} times.");
        if (problems.Count > 0)
            throw new BuildFailure(
                $"The workflow declarations are invalid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):" + System.Environment.NewLine
                    + string.Join(System.Environment.NewLine, problems.Select(p => "  - " + p)),
                "Fix the declarations named above; nothing was written.");
    }

    private static void CheckInputs(Workflow workflow, Action<string> add)
    {
        if (workflow.On.WorkflowDispatch is not { } dispatch)
            return;
        var inputs = dispatch.Inputs.IsDefault ? [] : dispatch.Inputs;
        if (inputs.Length > MaxDispatchInputs)
            add($"workflow_dispatch declares {inputs.Length} inputs; GitHub accepts at most {MaxDispatchInputs} ({string.Join(", ", inputs.Select(i => i.Name))}).");
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var input in inputs)
        {
            var at = $"input '{input.Name}'";
            if (!IsIdentifier(input.Name))
                add($"{at} is not a valid identifier: use letters, digits, '-' and '_', starting with a letter or '_'.");
            if (!names.Add(input.Name))
                add($"{at} is declared twice (input names are case-insensitive).");
            if (string.IsNullOrWhiteSpace(input.Description))
                add($"{at} has no description.");
            switch (input.Type)
            {
                case WorkflowInputType.Choice:
                    if (input.Options.IsDefaultOrEmpty)
                        add($"{at} is a choice without options.");
                    else if (input.Default is string d && !input.Options.Contains(d))
                        add($"{at} defaults to '{d}', which is not one of its options ({string.Join(", ", input.Options)}).");
                    break;
                case WorkflowInputType.Boolean when input.Default is not (null or bool):
                    add($"{at} is boolean but its default is '{input.Default}'.");
                    break;
                case WorkflowInputType.Number when input.Default is not (null or double or int or long or decimal):
                    add($"{at} is a number but its default is '{input.Default}'.");
                    break;
                case WorkflowInputType.String or WorkflowInputType.Environment when input.Default is not (null or string):
                    add($"{at} is a {input.Type.ToString().ToLowerInvariant()} but its default is not a string.");
                    break;
            }
            if (input.Type != WorkflowInputType.Choice && !input.Options.IsDefaultOrEmpty)
                add($"{at} has options but is not a choice.");
        }
    }

    private static void CheckPermissions(Permissions? permissions, string where, Action<string> add)
    {
        if (permissions is null)
            return;
        // GitHub accepts only write or none for id-token, and read or none for models.
        if (permissions.Scopes.TryGetValue(PermissionScope.IdToken, out var idToken) && idToken == PermissionLevel.Read)
            add($"{where}: id-token can only be 'write' or 'none'.");
        if (permissions.Scopes.TryGetValue(PermissionScope.Models, out var models) && models == PermissionLevel.Write)
            add($"{where}: models can only be 'read' or 'none'.");
    }

    private static void CheckJob(Job job, HashSet<string> jobIds, bool requirePinnedActions, Action<string> add)
    {
        foreach (var need in job.Needs.IsDefault ? [] : job.Needs)
        {
            if (need == job.Id)
                add("it needs itself.");
            else if (!jobIds.Contains(need))
                add($"it needs unknown job '{need}' (jobs: {string.Join(", ", jobIds)}).");
        }
        if (job.RunsOn.IsDefaultOrEmpty || job.RunsOn.Any(string.IsNullOrWhiteSpace))
            add("runs-on is empty.");
        if (job.TimeoutMinutes is <= 0)
            add($"timeout-minutes must be positive (got {job.TimeoutMinutes}).");
        CheckPermissions(job.Permissions, "permissions", add);
        if (job.Environment is { Name: var environment } && string.IsNullOrWhiteSpace(environment))
            add("the environment has no name.");
        if (job.Strategy is { } strategy)
        {
            if (strategy.MaxParallel is <= 0)
                add($"strategy.max-parallel must be positive (got {strategy.MaxParallel}).");
            if (strategy.MatrixExpression is null && strategy.Matrix.Count == 0)
                add("strategy has no matrix.");
            if (strategy.MatrixExpression is not null && strategy.Matrix.Count > 0)
                add("strategy has both matrix axes and a matrix expression.");
            foreach (var (axis, values) in strategy.Matrix)
            {
                if (!IsIdentifier(axis))
                    add($"matrix axis '{axis}' is not a valid identifier.");
                if (values.Count == 0)
                    add($"matrix axis '{axis}' has no values.");
            }
        }
        foreach (var output in job.Outputs.Keys.Where(k => !IsIdentifier(k)))
            add($"output '{output}' is not a valid identifier.");

        if (job.Steps.IsDefaultOrEmpty)
        {
            add("it has no steps.");
            return;
        }
        var stepIds = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < job.Steps.Length; index++)
        {
            var step = job.Steps[index];
            var at = $"step {index + 1}{(step.Name is null ? "" : $" '{step.Name}'")}";
            if (step.Uses is null == step.Run is null)
                add($"{at} must have exactly one of 'uses' and 'run'.");
            if (step.Run is not null && step.With.Count > 0)
                add($"{at} has 'with' inputs but runs a script; 'with' belongs to 'uses' steps.");
            if (step.Uses is not null && (step.Shell is not null || step.WorkingDirectory is not null))
                add($"{at} sets shell or working-directory, which only apply to 'run' steps.");
            if (step.Id is { } id && (!IsIdentifier(id) || !stepIds.Add(id)))
                add($"{at} has id '{id}', which is not a valid identifier or is used twice in the job.");
            if (step.TimeoutMinutes is <= 0)
                add($"{at} has timeout-minutes {step.TimeoutMinutes.Value.ToString(CultureInfo.InvariantCulture)}; it must be positive.");
            if (requirePinnedActions && step.Uses is { } uses && !uses.StartsWith("./", StringComparison.Ordinal)
                && !uses.StartsWith("docker://", StringComparison.Ordinal) && !PinnedActionPattern().IsMatch(uses))
                add($"{at} uses '{uses}', which is not pinned to a full commit SHA (owner/repo@<40 hex digits>).");
        }
    }

    /// <summary>The first cycle in the needs graph as a path that starts and ends on the same job, or null.</summary>
    public static IReadOnlyList<string>? FindCycle(IEnumerable<Job> jobs)
    {
        var needs = jobs.GroupBy(j => j.Id).ToDictionary(g => g.Key, g => g.First().Needs.IsDefault ? [] : g.First().Needs);
        var state = new Dictionary<string, int>(); // 1 visiting, 2 done
        var path = new List<string>();

        IReadOnlyList<string>? Visit(string id)
        {
            if (state.GetValueOrDefault(id) == 2 || !needs.ContainsKey(id))
                return null;
            if (state.GetValueOrDefault(id) == 1)
                return [.. path.SkipWhile(p => p != id), id];
            state[id] = 1;
            path.Add(id);
            foreach (var need in needs[id])
            {
                if (need != id && Visit(need) is { } found)
                    return found;
            }
            path.RemoveAt(path.Count - 1);
            state[id] = 2;
            return null;
        }

        foreach (var id in needs.Keys)
        {
            if (Visit(id) is { } cycle)
                return cycle;
        }
        return null;
    }
}
