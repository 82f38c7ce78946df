using Tesslate.Build.Engine;
using Tesslate.Build.Git;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

// Day-two operations: the legacy script's reload, deploy-compute, state and secrets.sh, plus what it lacked.
internal sealed partial class Build
{
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

    private Task SafeShutdownAsync(CancellationToken cancellationToken) => Operations.SafeShutdownAsync(cancellationToken);

    private Task ResumeAsync(CancellationToken cancellationToken) => Operations.ResumeAsync(cancellationToken);

    private Task StatusAsync(CancellationToken cancellationToken) => Operations.StatusAsync(cancellationToken);

    private Task VerifyAsync(CancellationToken cancellationToken) => Operations.VerifyAsync(cancellationToken);

    private Task MigrateAsync(CancellationToken cancellationToken) => Operations.MigrateAsync(cancellationToken);

    private Task ScaleAsync(CancellationToken cancellationToken) => Operations.ScaleAsync(cancellationToken);

    private Task FollowLogsAsync(CancellationToken cancellationToken) => Operations.FollowLogsAsync(cancellationToken);

    private Task PruneProjectNamespacesAsync(CancellationToken cancellationToken) => Operations.PruneProjectNamespacesAsync(cancellationToken);

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
