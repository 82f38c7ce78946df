using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

// ReleasePlan: what this run changes, the read-only preparation (permissions, lock, plans, diff, guard) and the one
// approval, run once before the first guarded target even under --skip ReleasePlan.
internal sealed partial class Build
{
    private bool IsPlanned(string target) => ExecutionPlan?[target] is { Status: TargetStatus.Scheduled or TargetStatus.Running };

    /// <summary>What this run will change: the basis of the approval, the deploy lock and the cluster permission check.</summary>
    private RunChanges Changes => RunChanges.Of(ScheduledTargets, Settings.RunsTerraform);

    /// <summary>The targets this run still executes (or is executing).</summary>
    private IReadOnlyList<BuildTarget> ScheduledTargets =>
        [.. ExecutionPlan?.Targets.Where(t => t.Status is TargetStatus.Scheduled or TargetStatus.Running).Select(t => t.Target) ?? []];

    /// <summary>
    /// A target that pushes or changes the environment (<see cref="GuardedByReleasePlan"/>) runs after ReleasePlan's
    /// work, which happens once per run even under --skip ReleasePlan: skipping the plan never skips the permission
    /// check, the deploy lock or the approval. Targets that touch images or a cluster are refused on shared.
    /// </summary>
    protected override async Task BeforeTargetAsync(BuildTarget target, CancellationToken cancellationToken)
    {
        if (!TargetFacts.IsGuarded(target))
            return;
        try
        {
            await PrepareReleaseAsync(cancellationToken);
        }
        catch (PrerequisiteMissingException) when (IsDryRun)
        {
            // ReleasePlan reported what it could not check; the dry run still shows what this target would do.
        }
    }

    protected override IEnumerable<Requirement> RequirementsOf(BuildTarget target) =>
        TargetFacts.NeedsWorkloads(target) ? [new Requirement(NotShared, SharedRefusal, SharedFix)] : [];

    private Task PrepareReleaseAsync(CancellationToken cancellationToken)
        => _run.Preparation.RunAsync(() => PrepareReleaseOnceAsync(cancellationToken));

    /// <summary>
    /// Everything read-only first, then one approval before the first mutation: in production for a run that changes
    /// the environment, and anywhere the Terraform plan destroys or replaces something. A build-only run needs none.
    /// </summary>
    private async Task PrepareReleaseOnceAsync(CancellationToken cancellationToken)
    {
        var changes = Changes;
        var clusterExists = true;
        if (changes.Cluster)
        {
            if (changes.Terraform && !(clusterExists = await ClusterExistsAsync(cancellationToken)))
            {
                Log.Warning("{Cluster} does not exist yet (first provisioning): no cluster permission check and no deploy lock; Terraform's state lock is the only guard this run.", Settings.ClusterName);
                Note($"{Settings.ClusterName} does not exist yet: Terraform's state lock is the only guard");
            }
            else
            {
                await CheckClusterPermissionsAsync(cancellationToken);
                await ReleaseRecords.TakeDeployLockAsync(cancellationToken);
            }
        }
        await StartDeploymentRecordAsync(cancellationToken);
        var plan = new ReleasePlanSummary(Settings.Id);
        if (IsPlanned(nameof(BuildImages)))
            plan = plan with { Images = (await PlanImagesAsync(cancellationToken)).Images };
        if (changes.Terraform)
        {
            var terraformPlan = await PlanTerraformApplyAsync(cancellationToken);
            _run.ReleaseTerraformPlan.Set(terraformPlan);
            plan = terraformPlan.WasDryRun
                ? plan with { TerraformNotPlanned = "the dry run could not plan (see the warning above)" }
                : plan with { Terraform = terraformPlan.Summary, TerraformVariableProblems = terraformPlan.VariableProblems };
        }
        if (IsPlanned(nameof(KustomizeApply)) && Settings.HasWorkloads)
        {
            var builtLater = plan.Images?.Where(i => i.Action != ImageAction.Reuse).Select(i => i.Name).ToList() ?? [];
            var (diff, notCompared, guard) = !clusterExists ? (null, $"{Settings.ClusterName} does not exist yet (first provisioning)", null)
                : await ClusterRelease.DiffAsync(builtLater, cancellationToken);
            plan = plan with { Kubernetes = diff, KubernetesNotCompared = notCompared, Guard = guard };
        }
        if (changes.Environment)
        {
            foreach (var line in plan.Lines())
                Log.Information("{Line:l}", line);
            Report.SetSection("releasePlan", plan.ToReport());
        }
        foreach (var unused in plan.Guard?.UnusedAllowances ?? [])
            Log.Warning("--allow-volume-change {Allowance} names no volume change of this release: nothing to allow there.", unused);
        // A blocking finding stops the release here, before any push, Terraform or apply (a dry run goes on to show the rest).
        if (plan.Guard is { } found && ReleaseProblems.GuardFailure(found) is { } blocked && !IsDryRun)
            throw blocked;
        var reasons = ReleaseApproval.Reasons(Settings, changes, plan.Terraform?.DestroyedOrReplaced.Count() ?? 0, plan.Guard?.AllowedVolumeChanges.Count ?? 0);
        if (reasons.Count == 0 || IsDryRun)
            return;
        await ApproveOnceAsync($"Approve the release to {Settings.Id} ({string.Join("; ", reasons)})?", cancellationToken);
        Note($"approved ({string.Join("; ", reasons)})");
    }

    /// <summary>Only asked when TerraformApply is in the run: on first provisioning it creates the EKS cluster.</summary>
    private async Task<bool> ClusterExistsAsync(CancellationToken cancellationToken)
    {
        if (Environment == DeployEnvironment.Local)
            return true;
        try
        {
            await (await AwsAsync(cancellationToken)).Eks.DescribeClusterAsync(Settings.ClusterName!, cancellationToken);
            return true;
        }
        catch (global::Tesslate.Build.Aws.ResourceNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Before any push or apply: may the chosen role apply this overlay, restart its workloads, hold the lock, record the release?</summary>
    private async Task CheckClusterPermissionsAsync(CancellationToken cancellationToken)
    {
        if (IsPlanned(nameof(KustomizeApply)) && Settings.HasWorkloads)
            await ClusterRelease.CheckPermissionsAsync(history: IsPlanned(nameof(Deploy)), seeds: IsPlanned(nameof(SeedApps)), ClusterName ?? Settings.ClusterName ?? "cluster", cancellationToken);
    }
}
