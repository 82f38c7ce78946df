namespace Tesslate.Build.Terraform;

/// <summary>What to plan: the variables file, optional <c>-target</c> addresses, and whether it is a destroy plan.</summary>
public sealed record PlanOptions
{
    /// <summary>The tfvars file, passed as <c>-var-file</c>; only read, never moved or deleted.</summary>
    public string? VarFile { get; init; }

    /// <summary><c>-target</c> addresses (the documented recovery when Helm releases time out: <c>module.eks</c> first).</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];

    /// <summary><c>plan -destroy</c>: a saved plan that destroys everything, shown before it is applied.</summary>
    public bool Destroy { get; init; }

    /// <summary>
    /// <c>-var NAME=VALUE</c> after the tfvars file (so these win): values the pipeline owns, such as the account id.
    /// Never secrets: they would be on the command line.
    /// </summary>
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A saved plan in the private workspace: the summary of <c>show -json</c> when <c>-detailed-exitcode</c> said there are
/// changes (empty when it said none), and what Terraform warned about the variables it was given.
/// </summary>
public sealed record TerraformPlan(string PlanFile, PlanSummary Summary, bool WasDryRun = false)
{
    /// <summary>The summary's rule (<see cref="PlanSummary.HasChanges"/>), the only answer to "does this plan change anything".</summary>
    public bool HasChanges => Summary.HasChanges;

    /// <summary>tfvars values the stack does not declare (Terraform ignored them).</summary>
    public IReadOnlyList<VariableProblem> VariableProblems { get; init; } = [];

    /// <summary>A --dry-run plan made without the state lock: shown, never applied.</summary>
    public bool IsPreview { get; init; }
}
