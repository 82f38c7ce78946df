namespace Tesslate.Build.Terraform;

/// <summary>
/// How to run Terraform for one stack. The adapter knows no environments: the caller passes the stack folder,
/// whether this is CI, and the command a person runs to look at the state again after an interrupted apply.
/// </summary>
public sealed record TerraformSettings(string StackDirectory)
{
    /// <summary>Executable name or full path; a name is looked up on PATH (or <c>TERRAFORM_EXE</c>).</summary>
    public string Executable { get; init; } = "terraform";

    /// <summary>In CI: <c>-no-color</c> and <c>TF_IN_AUTOMATION=1</c> (Terraform then drops "run terraform apply" hints).</summary>
    public bool InCi { get; init; }

    /// <summary>How long to wait for a state lock held by someone else (Terraform's default is 0: fail at once).</summary>
    public TimeSpan? LockTimeout { get; init; }

    /// <summary>
    /// What to tell the user to run to see what an interrupted apply left behind, e.g.
    /// <c>./build.sh TerraformPlan --environment beta</c>. Defaults to a plain <c>terraform plan</c> in the stack folder.
    /// </summary>
    public string? RecheckCommand { get; init; }

    /// <summary>
    /// A preview (--dry-run): plans still run, since a plan changes nothing, but without taking the state lock, and
    /// a folder that needs it is initialised (local files only); nothing is ever applied.
    /// </summary>
    public bool Preview { get; init; }

    /// <summary>How to correct the tfvars a plan was given, e.g. <c>./build.sh TfvarsDownload --environment beta</c> …</summary>
    public string? TfvarsFixCommand { get; init; }

    /// <summary>Log prefix of Terraform's output lines, e.g. <c>terraform:beta</c>.</summary>
    public string LogPrefix { get; init; } = "terraform";

    internal string Recheck => RecheckCommand ?? $"cd {StackDirectory} && terraform plan";

    internal string TfvarsFix => TfvarsFixCommand ?? "edit the tfvars file the plan was given";
}
