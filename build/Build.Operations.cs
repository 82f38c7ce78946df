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

    /// <summary>The day-two operations of this run: created once from the bound settings and the run's services.</summary>
    private OperationsStage Operations => _run.Operations.Get(() => new OperationsStage(BoundSettings,
        new OperationsInputs(RootDirectory, ClusterRelease, ReleaseRecords, ClusterAsync, _run.Operation, StampAsync, ApproveOnceAsync, () => RegistryClient)
        {
            Workloads = Workloads,
            Replicas = Replicas,
            RollbackOnFailure = RollbackOnFailure,
            SeedTimeout = SeedTimeout,
        },
        new StageContext(Log, Report, IsDryRun)));

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

    private Task ReloadAsync(CancellationToken cancellationToken) => Operations.ReloadAsync(cancellationToken);

    private Task DeployComputeAsync(CancellationToken cancellationToken) => Operations.DeployComputeAsync(cancellationToken);

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
