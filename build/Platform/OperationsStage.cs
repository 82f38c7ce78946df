using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Kubernetes.Operations;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Platform;

/// <summary>What the operations stage is given for its run, bound once from the parameters and the run's services.</summary>
/// <param name="RootDirectory">The repository root (Reload applies the overlay with the paths under it).</param>
/// <param name="Cluster">The run's cluster release (desired state, pinning, guard, rollout options).</param>
/// <param name="Records">The run's release record (deploy lock, history, promotion, rollback).</param>
/// <param name="Connect">The cluster this run acts on now.</param>
/// <param name="Operation">What each release operation of the run (Deploy, Reload, DeployCompute) keeps for its record.</param>
/// <param name="Stamp">Who, where and which commit of this repository the run is, for the history.</param>
/// <param name="Approve">The run's one approval, asked with the operation's own question.</param>
/// <param name="Registry">The run's registry client (Status names the git sha behind each digest).</param>
public sealed record OperationsInputs(
    string RootDirectory,
    ClusterStage Cluster,
    ReleaseRecordStage Records,
    Func<CancellationToken, Task<KubeCluster>> Connect,
    Func<ReleaseKind, ReleaseOperation> Operation,
    Func<CancellationToken, Task<ReleaseStamp>> Stamp,
    Func<string, CancellationToken, Task> Approve,
    Func<RegistryClient> Registry)
{
    /// <summary>--workloads (Reload, Scale, Logs; empty: the operation's default).</summary>
    public IReadOnlyList<string> Workloads { get; init; } = [];
    public int? Replicas { get; init; }
    public bool RollbackOnFailure { get; init; }
    public TimeSpan SeedTimeout { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// The day-two operations for one run, created once from the bound settings: Reload and DeployCompute (each keeps
/// Deploy's promises: the deploy lock, the guard and its approval, pinned digests, a record, tags moved only after
/// success), and SafeShutdown, Resume, Status, Verify, Migrate, Scale, Logs and PruneProjectNamespaces (one call each).
/// </summary>
public sealed class OperationsStage(EnvironmentSettings settings, OperationsInputs inputs, StageContext run)
{
    private static readonly TimeSpan ProjectNamespaceMinimumAge = TimeSpan.FromHours(1);

    private ClusterStage Cluster => inputs.Cluster;

    private ReleaseRecordStage Records => inputs.Records;

    private static void Note(string detail) => StageContext.Note(detail);

    private async Task<PlatformOperations> OperationsAsync(CancellationToken cancellationToken)
    {
        var cluster = await inputs.Connect(cancellationToken);
        return new PlatformOperations(cluster, run.Log, run.DryRun, Records.History(cluster), await inputs.Stamp(cancellationToken));
    }

    private ApplyOptions ApplyOptionsFor() => new() { Excluded = Cluster.TerraformOwnedObjects(), DefaultNamespace = PlatformWorkloads.Namespace, DryRun = run.DryRun };

    /// <summary>
    /// Reload: without --workloads the overlay's desired state (pinned as Deploy pins it, guarded) is applied and backend,
    /// frontend and worker restart; with --workloads only those restart, with the template they have (a restart changes
    /// no image reference). Recorded in the history either way.
    /// </summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        var rendered = await Cluster.RenderAsync(cancellationToken);
        var plan = ReloadPlan.For(inputs.Workloads, [.. rendered.Select(o => o.Ref).Where(ClusterStage.IsWorkload)]);
        run.Log.Information("Reload: {Plan}", plan);
        var reload = inputs.Operation(ReleaseKind.Reload);
        await Records.TakeDeployLockAsync(cancellationToken);
        var cluster = await inputs.Connect(cancellationToken);
        IReadOnlyList<KubeObject> objects = [];
        IReadOnlyList<ObjectRef> applied = [];
        if (plan.ApplyManifests)
        {
            var desired = (await Cluster.DesiredStatesAsync([Cluster.MainOverlay], cluster, PinPurpose.Apply, cancellationToken))[0];
            var guarded = await Cluster.GuardAsync([desired], cluster, cancellationToken);
            Cluster.EnforceGuard(reload, guarded.Guard);
            await ApproveVolumeChangesAsync(guarded.Guard, cancellationToken);
            objects = desired.Objects;
            applied = [.. guarded.Of(desired).Plan.Objects.Select(o => o.Object.Ref)];
        }
        await reload.CaptureBeforeAsync(cluster, applied.Where(ClusterStage.IsReleaseEntry).Concat(plan.Restarts).DistinctBy(w => w.ToString()), cancellationToken);
        var recordable = !run.DryRun && await MayRecordAsync(cluster, cancellationToken);
        var operations = await OperationsAsync(cancellationToken);
        RolloutWaitReport report;
        try
        {
            report = await operations.ReloadAsync(plan, objects, inputs.RootDirectory, ApplyOptionsFor(), Cluster.WaitOptions(), cancellationToken);
            reload.TookOver(operations.LastApply?.TakenOver ?? []);
        }
        catch (Exception) when (recordable)
        {
            reload.TookOver(operations.LastApply?.TakenOver ?? []);
            await Records.RecordOperationAsync(cluster, ReleaseKind.Reload, ReleaseOutcome.Failed, $"Reload: {plan}", CancellationToken.None);
            throw;
        }
        foreach (var result in report.Results)
            Note($"{result.Workload.Name}: {result.Outcome.ToString().ToLowerInvariant()}");
        if (recordable)
            await Records.RecordOperationAsync(cluster, ReleaseKind.Reload, ReleaseOutcome.Succeeded, $"Reload: {plan}", cancellationToken);
    }

    /// <summary>
    /// A restart-only Reload runs with --role deployer, which may not write the history ConfigMap: then it is not
    /// recorded, and says so, rather than failing after the restarts.
    /// </summary>
    private async Task<bool> MayRecordAsync(KubeCluster cluster, CancellationToken cancellationToken)
    {
        var missing = await PermissionPreflight.FindMissingAsync(cluster,
            PermissionPreflight.ForRelease(PlatformWorkloads.Namespace, history: true, seeds: false).Where(p => p.Resource == "configmaps"), cancellationToken);
        if (missing.Count > 0)
            run.Log.Warning("This run will not be recorded in the release history: the role may not {Missing}.", string.Join(", ", missing));
        return missing.Count == 0;
    }

    /// <summary>
    /// DeployCompute: the compute layer's desired state (pinned, guarded) released alone, in the same two steps as in a
    /// Deploy; recorded, its environment tags moved after success, returned to what ran with --rollback-on-failure.
    /// </summary>
    public async Task DeployComputeAsync(CancellationToken cancellationToken)
    {
        await Records.TakeDeployLockAsync(cancellationToken);
        var release = inputs.Operation(ReleaseKind.DeployCompute);
        var cluster = await inputs.Connect(cancellationToken);
        var compute = (await Cluster.DesiredStatesAsync([Cluster.ComputeLayer!], cluster, PinPurpose.Apply, cancellationToken))[0];
        var guarded = await Cluster.GuardAsync([compute], cluster, cancellationToken);
        Cluster.EnforceGuard(release, guarded.Guard);
        await ApproveVolumeChangesAsync(guarded.Guard, cancellationToken);
        var planned = guarded.Of(compute);
        await PermissionPreflight.EnsureAsync(cluster,
            [.. PermissionPreflight.ForApply(planned.Plan), .. PermissionPreflight.ForRollouts(planned.Plan.Objects.Select(o => o.Object.Ref).Where(ClusterStage.IsWorkload), restart: false),
             .. PermissionPreflight.ForRelease(PlatformWorkloads.Namespace, history: true, seeds: false)],
            "DeployCompute writes cluster-scoped objects and kube-system workloads: run it with --role admin.", cancellationToken);
        await release.CaptureBeforeAsync(cluster, planned.Plan.Objects.Select(o => o.Object.Ref).Where(ClusterStage.IsReleaseEntry), cancellationToken);
        if (run.DryRun)
        {
            Note($"{planned.DryRun.Summary}; would apply all but {PlatformWorkloads.VolumeHub} first, wait for the rollouts it starts, then {PlatformWorkloads.VolumeHub}");
            return;
        }
        ComputeReleaseReport report;
        try
        {
            report = await new ComputeRelease(cluster, run.Log).RunAsync(planned.ToApply, Cluster.WaitOptions(), cancellationToken);
        }
        catch (Exception)
        {
            await Records.RecordOperationAsync(cluster, ReleaseKind.DeployCompute, ReleaseOutcome.Failed, "DeployCompute", CancellationToken.None);
            throw;
        }
        release.TookOver(report.Applied);
        foreach (var result in report.Rollouts.Results)
            Note($"{result.Workload.Name}: {result.Outcome.ToString().ToLowerInvariant()} ({Durations.Format(result.Duration)})");
        if (report.Second is null && ComputeRelease.HubHeldBecause(report.FirstRollouts) is { } held)
            Note(held);
        if (!report.Rollouts.AllSucceeded)
        {
            if (inputs.RollbackOnFailure)
                await Records.RollBackThisRunAsync(release, cancellationToken);
            await Records.RecordOperationAsync(cluster, ReleaseKind.DeployCompute, release.RolledBack.ValueOrDefault is null ? ReleaseOutcome.Failed : ReleaseOutcome.RolledBack, "DeployCompute", CancellationToken.None);
            report.Rollouts.ThrowIfFailed(Cluster.AfterRolloutOutage);
        }
        var after = await new WorkloadSnapshot(cluster).CaptureAsync(release.BeforeOrEmpty.Select(b => b.Workload), cancellationToken);
        Note((await Records.Promotion.PromoteAsync(Records.PromotionFor(after), report.Rollouts, dryRun: false, cancellationToken)).Summary);
        await Records.RecordOperationAsync(cluster, ReleaseKind.DeployCompute, ReleaseOutcome.Succeeded, "DeployCompute", cancellationToken);
    }

    /// <summary>
    /// An operation outside Deploy's release plan (Reload, DeployCompute) that changes where data lives asks for the
    /// same approval a release plan would (not on local).
    /// </summary>
    private async Task ApproveVolumeChangesAsync(GuardReport guard, CancellationToken cancellationToken)
    {
        if (ReleaseApproval.VolumeReason(settings, guard.AllowedVolumeChanges.Count) is not { } reason || run.DryRun)
            return;
        await inputs.Approve($"Approve the change to {settings.Id} ({reason})?", cancellationToken);
        Note($"approved ({reason})");
    }

    public async Task SafeShutdownAsync(CancellationToken cancellationToken)
    {
        if (settings.RequiresApproval && !run.DryRun)
            await inputs.Approve($"Shut {settings.Id} down: scale the user projects, the worker and the backend to zero (counts recorded for Resume)?", cancellationToken);
        await Records.TakeDeployLockAsync(cancellationToken);
        var report = await (await OperationsAsync(cancellationToken)).SafeShutdownAsync(cancellationToken);
        Note($"deleted {report.DeletedProjectPods.Count} project pod(s)");
        foreach (var recorded in report.Recorded)
            Note($"{recorded}");
    }

    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        await Records.TakeDeployLockAsync(cancellationToken);
        foreach (var restored in await (await OperationsAsync(cancellationToken)).ResumeAsync(cancellationToken))
            Note($"{restored}");
    }

    public async Task StatusAsync(CancellationToken cancellationToken)
    {
        var cluster = await inputs.Connect(cancellationToken);
        var status = await (await OperationsAsync(cancellationToken)).StatusAsync(await Cluster.RenderedWorkloadsAsync(cancellationToken), Records.Lock(cluster), cancellationToken, new ImageRevisions(inputs.Registry(), run.Log));
        foreach (var line in status.Lines())
            run.Log.Information("{Line}", line);
        run.Report.SetSection("status", status);
    }

    public async Task VerifyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        var report = await EnvironmentVerification.RunAsync(await inputs.Connect(cancellationToken), http, new Uri(settings.Url), TimeSpan.FromSeconds(20), cancellationToken);
        foreach (var line in report.Diagnosis)
            run.Log.Warning("{Line}", line);
        Note(report.Ok ? $"{settings.Url} and its backend ({EnvironmentVerification.BackendPath}) answer, the wildcard certificate is Ready" : "see the diagnosis above");
        report.ThrowIfFailed();
    }

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        // A schema change while another run rolls out a backend is a release of its own: it holds the deploy lock too.
        await Records.TakeDeployLockAsync(cancellationToken);
        var result = await DatabaseMigration.RunAsync(await inputs.Connect(cancellationToken), run.Log, inputs.SeedTimeout, cancellationToken);
        Note($"alembic upgrade head exited {result.ExitCode}");
    }

    public async Task ScaleAsync(CancellationToken cancellationToken)
    {
        var rendered = await Cluster.RenderedWorkloadsAsync(cancellationToken);
        PlatformOperations.ValidateScale(inputs.Workloads, inputs.Replicas, rendered);
        await Records.TakeDeployLockAsync(cancellationToken);
        foreach (var record in await (await OperationsAsync(cancellationToken)).ScaleAsync(inputs.Workloads, inputs.Replicas, rendered, cancellationToken))
            Note($"{record}");
    }

    public async Task FollowLogsAsync(CancellationToken cancellationToken)
    {
        var cluster = await inputs.Connect(cancellationToken);
        var workloads = PlatformWorkloads.Resolve(inputs.Workloads, await Cluster.RenderedWorkloadsAsync(cancellationToken));
        var logs = new PodLogs(cluster, run.Log, listWorkloads: "Status");
        try
        {
            await Task.WhenAll(workloads.Select(w => logs.FollowAsync(w, line => run.Log.Information("{Line}", line), follow: true, tailLines: 100, cancellationToken)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Following ends with Ctrl-C; that is the normal end.
        }
    }

    public async Task PruneProjectNamespacesAsync(CancellationToken cancellationToken)
    {
        var pruning = new NamespacePruning(await inputs.Connect(cancellationToken), run.Log);
        var candidates = await pruning.FindAsync("proj-", ProjectNamespaceMinimumAge, DateTimeOffset.UtcNow, cancellationToken);
        foreach (var candidate in candidates)
            run.Log.Information("{Candidate}", candidate);
        Note($"{candidates.Count} orphaned project namespace(s)");
        if (candidates.Count == 0 || run.DryRun)
            return;
        await Records.TakeDeployLockAsync(cancellationToken);
        await inputs.Approve($"Delete {candidates.Count} project namespace(s) listed above?", cancellationToken);
        await pruning.DeleteAsync(candidates, run.DryRun, cancellationToken);
    }
}
