using Tesslate.Build.Engine;
using Tesslate.Build.Git;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Kubernetes.Operations;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

// Day-two operations: the legacy script's reload, deploy-compute, state and secrets.sh, plus what it lacked.
internal sealed partial class Build
{
    private static readonly TimeSpan ProjectNamespaceMinimumAge = TimeSpan.FromHours(1);

    private async Task<PlatformOperations> OperationsAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        return new PlatformOperations(cluster, Log, IsDryRun, ReleaseRecords.History(cluster), await StampAsync(cancellationToken));
    }

    private async Task<ReleaseStamp> StampAsync(CancellationToken cancellationToken)
    {
        var who = EnvironmentVariables.GetValueOrDefault("GITHUB_ACTOR") ?? EnvironmentVariables.GetValueOrDefault("USER") ?? System.Environment.UserName;
        var where = GitHubActions?.RunUrl ?? System.Environment.MachineName;
        string? sha = null;
        try
        {
            sha = await new GitRepository(Runner, RootDirectory, Tools.Git).HeadCommitAsync(cancellationToken);
        }
        catch (BuildFailure)
        {
            // Not a git checkout (an unpacked release): the record simply has no sha.
        }
        return new ReleaseStamp(Report.RunId, who, where, sha);
    }

    private ApplyOptions ApplyOptionsFor() => new() { Excluded = ClusterRelease.TerraformOwnedObjects(), DefaultNamespace = PlatformWorkloads.Namespace, DryRun = IsDryRun };

    /// <summary>
    /// Reload: without --workloads the overlay's desired state (pinned as Deploy pins it, guarded) is applied and backend,
    /// frontend and worker restart; with --workloads only those restart, with the template they have (a restart changes
    /// no image reference). Recorded in the history either way.
    /// </summary>
    private async Task ReloadAsync(CancellationToken cancellationToken)
    {
        var rendered = await ClusterRelease.RenderAsync(cancellationToken);
        var plan = ReloadPlan.For(Workloads, [.. rendered.Select(o => o.Ref).Where(ClusterStage.IsWorkload)]);
        Log.Information("Reload: {Plan}", plan);
        var reload = _run.Operation(ReleaseKind.Reload);
        await ReleaseRecords.TakeDeployLockAsync(cancellationToken);
        var cluster = await ClusterAsync(cancellationToken);
        IReadOnlyList<KubeObject> objects = [];
        IReadOnlyList<ObjectRef> applied = [];
        if (plan.ApplyManifests)
        {
            var desired = (await ClusterRelease.DesiredStatesAsync([ClusterRelease.MainOverlay], cluster, PinPurpose.Apply, cancellationToken))[0];
            var guarded = await ClusterRelease.GuardAsync([desired], cluster, cancellationToken);
            ClusterRelease.EnforceGuard(reload, guarded.Guard);
            await ApproveVolumeChangesAsync(guarded.Guard, cancellationToken);
            objects = desired.Objects;
            applied = [.. guarded.Of(desired).Plan.Objects.Select(o => o.Object.Ref)];
        }
        await reload.CaptureBeforeAsync(cluster, applied.Where(ClusterStage.IsReleaseEntry).Concat(plan.Restarts).DistinctBy(w => w.ToString()), cancellationToken);
        var recordable = !IsDryRun && await MayRecordAsync(cluster, cancellationToken);
        var operations = await OperationsAsync(cancellationToken);
        RolloutWaitReport report;
        try
        {
            report = await operations.ReloadAsync(plan, objects, RootDirectory, ApplyOptionsFor(), ClusterRelease.WaitOptions(), cancellationToken);
            reload.TookOver(operations.LastApply?.TakenOver ?? []);
        }
        catch (Exception) when (recordable)
        {
            reload.TookOver(operations.LastApply?.TakenOver ?? []);
            await ReleaseRecords.RecordOperationAsync(cluster, ReleaseKind.Reload, ReleaseOutcome.Failed, $"Reload: {plan}", CancellationToken.None);
            throw;
        }
        foreach (var result in report.Results)
            Note($"{result.Workload.Name}: {result.Outcome.ToString().ToLowerInvariant()}");
        if (recordable)
            await ReleaseRecords.RecordOperationAsync(cluster, ReleaseKind.Reload, ReleaseOutcome.Succeeded, $"Reload: {plan}", cancellationToken);
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
            Log.Warning("This run will not be recorded in the release history: the role may not {Missing}.", string.Join(", ", missing));
        return missing.Count == 0;
    }

    /// <summary>
    /// DeployCompute: the compute layer's desired state (pinned, guarded) released alone, in the same two steps as in a
    /// Deploy; recorded, its environment tags moved after success, returned to what ran with --rollback-on-failure.
    /// </summary>
    private async Task DeployComputeAsync(CancellationToken cancellationToken)
    {
        await ReleaseRecords.TakeDeployLockAsync(cancellationToken);
        var release = _run.Operation(ReleaseKind.DeployCompute);
        var cluster = await ClusterAsync(cancellationToken);
        var compute = (await ClusterRelease.DesiredStatesAsync([ClusterRelease.ComputeLayer!], cluster, PinPurpose.Apply, cancellationToken))[0];
        var guarded = await ClusterRelease.GuardAsync([compute], cluster, cancellationToken);
        ClusterRelease.EnforceGuard(release, guarded.Guard);
        await ApproveVolumeChangesAsync(guarded.Guard, cancellationToken);
        var planned = guarded.Of(compute);
        await PermissionPreflight.EnsureAsync(cluster,
            [.. PermissionPreflight.ForApply(planned.Plan), .. PermissionPreflight.ForRollouts(planned.Plan.Objects.Select(o => o.Object.Ref).Where(ClusterStage.IsWorkload), restart: false),
             .. PermissionPreflight.ForRelease(PlatformWorkloads.Namespace, history: true, seeds: false)],
            "DeployCompute writes cluster-scoped objects and kube-system workloads: run it with --role admin.", cancellationToken);
        await release.CaptureBeforeAsync(cluster, planned.Plan.Objects.Select(o => o.Object.Ref).Where(ClusterStage.IsReleaseEntry), cancellationToken);
        if (IsDryRun)
        {
            Note($"{planned.DryRun.Summary}; would apply all but {PlatformWorkloads.VolumeHub} first, wait for the rollouts it starts, then {PlatformWorkloads.VolumeHub}");
            return;
        }
        ComputeReleaseReport report;
        try
        {
            report = await new ComputeRelease(cluster, Log).RunAsync(planned.ToApply, ClusterRelease.WaitOptions(), cancellationToken);
        }
        catch (Exception)
        {
            await ReleaseRecords.RecordOperationAsync(cluster, ReleaseKind.DeployCompute, ReleaseOutcome.Failed, "DeployCompute", CancellationToken.None);
            throw;
        }
        release.TookOver(report.Applied);
        foreach (var result in report.Rollouts.Results)
            Note($"{result.Workload.Name}: {result.Outcome.ToString().ToLowerInvariant()} ({Durations.Format(result.Duration)})");
        if (report.Second is null && ComputeRelease.HubHeldBecause(report.FirstRollouts) is { } held)
            Note(held);
        if (!report.Rollouts.AllSucceeded)
        {
            if (RollbackOnFailure)
                await ReleaseRecords.RollBackThisRunAsync(release, cancellationToken);
            await ReleaseRecords.RecordOperationAsync(cluster, ReleaseKind.DeployCompute, release.RolledBack.ValueOrDefault is null ? ReleaseOutcome.Failed : ReleaseOutcome.RolledBack, "DeployCompute", CancellationToken.None);
            report.Rollouts.ThrowIfFailed(ClusterRelease.AfterRolloutOutage);
        }
        var after = await new WorkloadSnapshot(cluster).CaptureAsync(release.BeforeOrEmpty.Select(b => b.Workload), cancellationToken);
        Note((await ReleaseRecords.Promotion.PromoteAsync(ReleaseRecords.PromotionFor(after), report.Rollouts, dryRun: false, cancellationToken)).Summary);
        await ReleaseRecords.RecordOperationAsync(cluster, ReleaseKind.DeployCompute, ReleaseOutcome.Succeeded, "DeployCompute", cancellationToken);
    }

    /// <summary>
    /// An operation outside Deploy's release plan (Reload, DeployCompute) that changes where data lives asks for the
    /// same approval a release plan would (not on local).
    /// </summary>
    private async Task ApproveVolumeChangesAsync(GuardReport guard, CancellationToken cancellationToken)
    {
        if (ReleaseApproval.VolumeReason(Settings, guard.AllowedVolumeChanges.Count) is not { } reason || IsDryRun)
            return;
        await ApproveOnceAsync($"Approve the change to {Settings.Id} ({reason})?", cancellationToken);
        Note($"approved ({reason})");
    }

    private async Task SafeShutdownAsync(CancellationToken cancellationToken)
    {
        if (Settings.RequiresApproval && !IsDryRun)
            await ApproveOnceAsync($"Shut {Settings.Id} down: scale the user projects, the worker and the backend to zero (counts recorded for Resume)?", cancellationToken);
        await ReleaseRecords.TakeDeployLockAsync(cancellationToken);
        var report = await (await OperationsAsync(cancellationToken)).SafeShutdownAsync(cancellationToken);
        Note($"deleted {report.DeletedProjectPods.Count} project pod(s)");
        foreach (var recorded in report.Recorded)
            Note($"{recorded}");
    }

    private async Task ResumeAsync(CancellationToken cancellationToken)
    {
        await ReleaseRecords.TakeDeployLockAsync(cancellationToken);
        foreach (var restored in await (await OperationsAsync(cancellationToken)).ResumeAsync(cancellationToken))
            Note($"{restored}");
    }

    private async Task StatusAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        var status = await (await OperationsAsync(cancellationToken)).StatusAsync(await ClusterRelease.RenderedWorkloadsAsync(cancellationToken), ReleaseRecords.Lock(cluster), cancellationToken, new ImageRevisions(RegistryClient, Log));
        foreach (var line in status.Lines())
            Log.Information("{Line}", line);
        Report.SetSection("status", status);
    }

    private async Task VerifyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        var report = await EnvironmentVerification.RunAsync(await ClusterAsync(cancellationToken), http, new Uri(EnvironmentUrl), TimeSpan.FromSeconds(20), cancellationToken);
        foreach (var line in report.Diagnosis)
            Log.Warning("{Line}", line);
        Note(report.Ok ? $"{EnvironmentUrl} and its backend ({EnvironmentVerification.BackendPath}) answer, the wildcard certificate is Ready" : "see the diagnosis above");
        report.ThrowIfFailed();
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        // A schema change while another run rolls out a backend is a release of its own: it holds the deploy lock too.
        await ReleaseRecords.TakeDeployLockAsync(cancellationToken);
        var result = await DatabaseMigration.RunAsync(await ClusterAsync(cancellationToken), Log, SeedTimeout, cancellationToken);
        Note($"alembic upgrade head exited {result.ExitCode}");
    }

    private async Task ScaleAsync(CancellationToken cancellationToken)
    {
        var rendered = await ClusterRelease.RenderedWorkloadsAsync(cancellationToken);
        PlatformOperations.ValidateScale(Workloads, Replicas, rendered);
        await ReleaseRecords.TakeDeployLockAsync(cancellationToken);
        foreach (var record in await (await OperationsAsync(cancellationToken)).ScaleAsync(Workloads, Replicas, rendered, cancellationToken))
            Note($"{record}");
    }

    private async Task FollowLogsAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        var workloads = PlatformWorkloads.Resolve(Workloads, await ClusterRelease.RenderedWorkloadsAsync(cancellationToken));
        var logs = new PodLogs(cluster, Log, listWorkloads: "Status");
        try
        {
            await Task.WhenAll(workloads.Select(w => logs.FollowAsync(w, line => Log.Information("{Line}", line), follow: true, tailLines: 100, cancellationToken)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Following ends with Ctrl-C; that is the normal end.
        }
    }

    private async Task PruneProjectNamespacesAsync(CancellationToken cancellationToken)
    {
        var pruning = new NamespacePruning(await ClusterAsync(cancellationToken), Log);
        var candidates = await pruning.FindAsync("proj-", ProjectNamespaceMinimumAge, DateTimeOffset.UtcNow, cancellationToken);
        foreach (var candidate in candidates)
            Log.Information("{Candidate}", candidate);
        Note($"{candidates.Count} orphaned project namespace(s)");
        if (candidates.Count == 0 || IsDryRun)
            return;
        await ReleaseRecords.TakeDeployLockAsync(cancellationToken);
        await ApproveOnceAsync($"Delete {candidates.Count} project namespace(s) listed above?", cancellationToken);
        await pruning.DeleteAsync(candidates, IsDryRun, cancellationToken);
    }

    private Task DownloadTfvarsAsync(CancellationToken cancellationToken) =>
        WithTfvarsAsync(sync => sync.DownloadAsync(Settings.TfvarsSecretId, Path.Combine(StackDirectory, Settings.TfvarsFile), cancellationToken), cancellationToken);

    /// <summary>--tfvars names the file to upload (only read); without it, the stack folder's, where TfvarsDownload puts it.</summary>
    private Task UploadTfvarsAsync(CancellationToken cancellationToken) =>
        WithTfvarsAsync(sync => sync.UploadAsync(Settings.TfvarsSecretId, Tfvars is { } given ? Path.GetFullPath(given) : Path.Combine(StackDirectory, Settings.TfvarsFile), Settings.Id, cancellationToken), cancellationToken);

    private async Task WithTfvarsAsync(Func<TfvarsSync, Task> action, CancellationToken cancellationToken)
    {
        var session = await AwsAsync(cancellationToken);
        await Diagnosed(async () =>
        {
            await action(new TfvarsSync(session.SecretsManager, Approvals, Log));
            return true;
        });
    }

    private async Task ViewTfvarsAsync(CancellationToken cancellationToken)
    {
        var session = await AwsAsync(cancellationToken);
        var lines = await Diagnosed(() => new TfvarsSync(session.SecretsManager, Approvals, Log).ViewAsync(Settings.TfvarsSecretId, StackDirectory, cancellationToken));
        foreach (var line in lines)
            Log.Information("{Line}", line);
    }
}
