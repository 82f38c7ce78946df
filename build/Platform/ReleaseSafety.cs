using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Terraform;

namespace Tesslate.Build.Platform;

/// <summary>What a run will change, judged from the facts of the targets it schedules (<see cref="TargetFacts"/>).</summary>
public sealed record RunChanges(bool Terraform, bool Cluster)
{
    public bool Environment => Terraform || Cluster;

    /// <param name="scheduled">The targets this run will execute.</param>
    /// <param name="runsTerraform">The environment has a Terraform stack (applying it changes nothing otherwise).</param>
    public static RunChanges Of(IReadOnlyCollection<BuildTarget> scheduled, bool runsTerraform) => new(
        Terraform: runsTerraform && scheduled.Any(t => t.FactsOf<AppliesTerraform>().Any()),
        Cluster: TargetFacts.Cluster(scheduled) == ClusterUse.Changes);
}

/// <summary>The approval rule of a release (pure): the pipeline asks once, before the first mutation, when this is not empty.</summary>
public static class ReleaseApproval
{
    /// <summary>
    /// Production needs an approval for any run that changes it; anywhere, a plan that destroys or replaces does too.
    /// A build-only run (images pushed under immutable tags) changes no environment and never needs one.
    /// </summary>
    public static IReadOnlyList<string> Reasons(EnvironmentSettings environment, RunChanges changes, int destroyedOrReplaced, int allowedVolumeChanges = 0)
    {
        var reasons = new List<string>();
        if (environment.RequiresApproval && changes.Environment)
            reasons.Add($"{environment.Id} is production");
        if (destroyedOrReplaced > 0)
            reasons.Add($"Terraform would destroy or replace {destroyedOrReplaced} resource(s)");
        if (VolumeReason(environment, allowedVolumeChanges) is { } volumes)
            reasons.Add(volumes);
        return reasons;
    }

    /// <summary>A change of where data lives that --allow-volume-change let through is approved like a destroy (local excepted: a laptop's cluster).</summary>
    public static string? VolumeReason(EnvironmentSettings environment, int allowedVolumeChanges) =>
        allowedVolumeChanges > 0 && environment.Name != DeployEnvironment.Local ? $"{allowedVolumeChanges} data volume change(s) allowed by --allow-volume-change" : null;
}

/// <summary>
/// The one release plan a run shows before its approval (pure): per image build or reuse, the Terraform plan's counts
/// and what it destroys or replaces (addresses only), and the Kubernetes server-side diff's counts. A part is null when
/// the run does not have that stage; a stage whose plan could not be made says why instead.
/// </summary>
public sealed record ReleasePlanSummary(string Environment)
{
    public IReadOnlyList<ImageDecision>? Images { get; init; }

    public PlanSummary? Terraform { get; init; }

    /// <summary>tfvars values the stack does not declare (Terraform ignored them).</summary>
    public IReadOnlyList<VariableProblem> TerraformVariableProblems { get; init; } = [];

    /// <summary>Why there is no Terraform plan (a dry run that could not make one).</summary>
    public string? TerraformNotPlanned { get; init; }

    public ApplyReport? Kubernetes { get; init; }

    /// <summary>Why the cluster was not compared (first provisioning, images not yet known, no cluster in dry-run).</summary>
    public string? KubernetesNotCompared { get; init; }

    /// <summary>What the release would do to what runs: the server's refusals, data volume changes, takeovers from kubectl apply (listed first).</summary>
    public GuardReport? Guard { get; init; }

    /// <summary>Short enough to read, long enough to find in the log's full fingerprint.</summary>
    public static string ShortFingerprint(ImageFingerprint? fingerprint) => fingerprint is null ? "?" : fingerprint.Value[..Math.Min(12, fingerprint.Value.Length)];

    public static string Describe(ImageDecision image) => image.Action switch
    {
        ImageAction.Reuse => $"reuse {image.ReuseTag}",
        ImageAction.Build => $"build{(Reason(image) is { } reason ? $" ({reason})" : "")}",
        _ => $"unknown{(Reason(image) is { } reason ? $" ({reason})" : "")}",
    };

    /// <summary>Why an image builds or is unknown, in a few words and the pipeline's flags.</summary>
    public static string? Reason(ImageDecision image) => image.Reason switch
    {
        DecisionReason.ForceBuild => "--force-build",
        DecisionReason.BaseImageDigestUnknown => "base image digest unknown",
        DecisionReason.NotInRegistry => "not in the registry",
        DecisionReason.RegistryNotChecked => "registry not checked",
        DecisionReason.NoSourceRoot => "no --source-root",
        DecisionReason.WillFail => $"will fail: {(image.Failure is BuildFailure failure ? failure.Problem : image.Failure?.Message)}",
        _ => null,
    };

    /// <summary>
    /// Plain aligned lines, as the run's other summaries print. A Terraform plan that destroys or replaces comes first,
    /// each address named, with the destroys a moved block could explain.
    /// </summary>
    public IReadOnlyList<string> Lines()
    {
        var terraform = new List<(string Label, string Text)>();
        if (Terraform is not null)
        {
            terraform.Add(("terraform", Terraform.CountsLine));
            terraform.AddRange(Terraform.DestroyedOrReplaced.Select(c => (c.Action == ResourceAction.Delete ? "  destroy" : "  replace", c.Address)));
            terraform.AddRange(Terraform.MoveHints.Select(h => ("  moved?", h.Text)));
            terraform.AddRange(TerraformVariableProblems.Select(p => ("  tfvars", p.Describe())));
        }
        else if (TerraformNotPlanned is not null)
        {
            terraform.Add(("terraform", $"not planned: {TerraformNotPlanned}"));
        }
        // What the release would break or destroy comes first: the guard's refusals and volume changes, then destroys.
        var rows = new List<(string Label, string Text)>([.. Guard is null ? [] : ReleaseProblems.GuardRows(Guard)]);
        if (Terraform?.HasDestroyOrReplace == true)
            rows.AddRange(terraform);
        foreach (var image in Images ?? [])
            rows.Add(($"image {image.Name}", $"{ShortFingerprint(image.Fingerprint),-12}  {Describe(image)}"));
        if (Terraform?.HasDestroyOrReplace != true)
            rows.AddRange(terraform);
        if (Kubernetes is not null)
        {
            rows.Add(("kubernetes", Kubernetes.Summary));
            rows.AddRange(Kubernetes.Objects.Where(o => o.Outcome is ApplyOutcome.Created or ApplyOutcome.Configured)
                .Select(o => ($"  {o.Outcome.ToString().ToLowerInvariant()}", o.Object.ToString())));
        }
        else if (KubernetesNotCompared is not null)
        {
            rows.Add(("kubernetes", $"not compared: {KubernetesNotCompared}"));
        }
        var width = rows.Count == 0 ? 0 : rows.Max(r => r.Label.Length);
        return [$"Release plan for {Environment}:", .. rows.Select(r => $"  {r.Label.PadRight(width)}  {r.Text}")];
    }

    /// <summary>The run report's "releasePlan" section: names, counts and addresses, never values.</summary>
    public object ToReport() => new
    {
        environment = Environment,
        images = Images?.Select(i => new { name = i.Name, fingerprint = i.Fingerprint?.Value, action = i.Action.ToString().ToLowerInvariant(), reuseTag = i.ReuseTag, reason = Reason(i) }),
        terraform = Terraform is null ? null : new
        {
            add = Terraform.ToAdd,
            change = Terraform.ToChange,
            destroy = Terraform.ToDestroy,
            replace = Terraform.ToReplace,
            destroyedOrReplaced = Terraform.DestroyedOrReplaced.Select(c => new { address = c.Address, action = c.Action.ToString() }),
            moveHints = Terraform.MoveHints.Select(h => h.Text),
            variableProblems = TerraformVariableProblems.Select(p => new { variable = p.Variable, problem = p.Describe() }),
        },
        terraformNotPlanned = TerraformNotPlanned,
        kubernetes = Kubernetes is null ? null : new
        {
            created = Kubernetes.Count(ApplyOutcome.Created),
            configured = Kubernetes.Count(ApplyOutcome.Configured),
            unchanged = Kubernetes.Count(ApplyOutcome.Unchanged),
            skipped = Kubernetes.Count(ApplyOutcome.Skipped),
            changed = Kubernetes.Objects.Where(o => o.Outcome is ApplyOutcome.Created or ApplyOutcome.Configured).Select(o => $"{o.Object}: {o.Outcome.ToString().ToLowerInvariant()}"),
        },
        kubernetesNotCompared = KubernetesNotCompared,
        guard = Guard?.ToReport(),
    };
}
