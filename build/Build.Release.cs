using Tesslate.Build.Engine;
using Tesslate.Build.Git;
using Tesslate.Build.GitHub;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

// The release around the apply: the change gate and the run's one approval, the GitHub Deployment, and the release
// record stage (deploy lock, history, promotion, preview, rollback) its targets call.
internal sealed partial class Build
{
    private ReleaseOperation DeployRelease => _run.Operation(ReleaseKind.Deploy);

    /// <summary>The release record of this run: created once from the bound settings and the run's services.</summary>
    private ReleaseRecordStage ReleaseRecords => _run.ReleaseRecords.Get(() => new ReleaseRecordStage(BoundSettings,
        new ReleaseRecordInputs(LockHolder.FromEnvironment(EnvironmentVariables.ToDictionary(p => p.Key, p => (string?)p.Value), Report.RunId), ClusterRelease,
            ClusterAsync, () => ConnectedCluster, () => RegistryClient, RegistryReachableAsync, BeforeChangeAsync, StampAsync, ApplicationCommitAsync,
            _run.Operation, _run.DeployLock, Cleanup,
            ChangesCluster: () => Changes.Cluster, DeployPlanned: () => IsPlanned(nameof(Deploy)),
            StoppedForApproval: () => _run.Approval.Started is { IsCompletedSuccessfully: false }, DeploymentSucceeded: DeploymentSucceededAsync)
        {
            DeployLockLease = DeployLockLease,
            BreakLock = BreakLock,
            Workloads = Workloads,
            ToTag = ToTag,
            Release = Release,
        },
        new StageContext(Log, Report, IsDryRun)));

    private Task PromoteAndRecordAsync(CancellationToken cancellationToken) =>
        ReleaseRecords.PromoteAndRecordAsync(_run.RolledOut.ValueOrDefault, _run.Applied.ValueOrDefault, cancellationToken);

    private Task RollbackAsync(CancellationToken cancellationToken) => ReleaseRecords.RollbackAsync(cancellationToken);

    /// <summary>
    /// Before every change this run makes to the environment (a write to its cluster, a command in one of its pods, an
    /// environment tag moved, Terraform's apply): a run that lost the deploy lock stops, naming who holds it now; in an
    /// environment that needs approval, the first change waits for the run's one approval. Derived from what a target
    /// does, not from a list of targets, so a target added later asks too.
    /// </summary>
    private async Task BeforeChangeAsync(string change, CancellationToken cancellationToken)
    {
        _run.DeployLock.ValueOrDefault?.ThrowIfLost();
        if (Settings.RequiresApproval && !IsDryRun && !ReleaseRecordStage.IsRecordingOnly)
            await ApproveOnceAsync($"{Scheduler.Current?.Name ?? "This run"} changes {Settings.Id} (first: {change}). Approve?", cancellationToken);
    }

    /// <summary>
    /// The run's one approval (a terminal's yes, or --approve): asked once, by whoever needs it first — the release plan
    /// with its reasons, an operation with its own question, or the change gate before a target's first change.
    /// </summary>
    private Task ApproveOnceAsync(string question, CancellationToken cancellationToken)
        => _run.Approval.RunAsync(() => Approvals.RequireAsync(question, "yes", cancellationToken));

    /// <summary>A GitHub Deployment for this release (laptop or CI), in_progress now, success or failure at the end.</summary>
    private async Task StartDeploymentRecordAsync(CancellationToken cancellationToken)
    {
        if (IsPlanned(nameof(Deploy)) && !IsDryRun)
            await _run.Deployment.GetAsync(() => StartDeploymentAsync(cancellationToken));
    }

    private async Task<DeploymentRecorder?> StartDeploymentAsync(CancellationToken cancellationToken)
    {
        var commit = await new GitRepository(Runner, RootDirectory, Tools.Git).HeadCommitAsync(cancellationToken);
        var application = await ApplicationCommitAsync(cancellationToken);
        var deployment = await DeploymentRecords.CreateAsync(GitHubToken, Settings.Id, commit, application?.Sha, Settings.RequiresApproval, RootDirectory, Runner, Log, cancellationToken,
            name => EnvironmentVariables.GetValueOrDefault(name), tokenSetting: "--github-token");
        await deployment.StartAsync(cancellationToken);
        Cleanup.Register("finish the GitHub deployment record", async () =>
        {
            if (DeployRelease.Recorded.ValueOrDefault is not null)
                return;
            var failed = ExecutionPlan!.Targets.FirstOrDefault(t => t.Status is TargetStatus.Failed or TargetStatus.Aborted or TargetStatus.AwaitingApproval);
            await deployment.FailedAsync(failed?.Name ?? "Deploy", failed?.Note is { } note ? [note] : null, CancellationToken.None);
        });
        return deployment;
    }

    private Task DeploymentSucceededAsync(CancellationToken cancellationToken) =>
        _run.Deployment.ValueOrDefault is { } deployment
            ? deployment.SucceededAsync(Settings.Url, ExecutionPlan!.Targets.Select(t => $"{t.Name}: {t.Status}"), cancellationToken)
            : Task.CompletedTask;
}
