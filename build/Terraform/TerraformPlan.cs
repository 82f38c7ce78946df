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
}

/// <summary>
/// A saved plan in the private workspace: <see cref="HasChanges"/> from <c>-detailed-exitcode</c> (2), and the
/// summary of <c>show -json</c> when there are changes.
/// </summary>
public sealed record TerraformPlan(string PlanFile, bool HasChanges, PlanSummary Summary, bool WasDryRun = false);
