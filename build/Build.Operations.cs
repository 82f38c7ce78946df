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
        return new PlatformOperations(cluster, Log, IsDryRun, History(cluster), await StampAsync(cancellationToken));
    }

    private ReleaseHistory History(KubeCluster cluster) => new(cluster.Client, new ReleaseHistoryOptions(Namespace, "tesslate-deploy-history"), Log);

    private DeployLock Lock(KubeCluster cluster) => new(cluster.Client, new DeployLockOptions(Namespace, "tesslate-deploy"), Log);

    private async Task<ReleaseStamp> StampAsync(CancellationToken cancellationToken)
    {
        var who = EnvironmentVariables.GetValueOrDefault("GITHUB_ACTOR") ?? EnvironmentVariables.GetValueOrDefault("USER") ?? System.Environment.UserName;
        var where = GitHubActions?.RunUrl ?? System.Environment.MachineName;
        string? sha = null;
        try
        {
            sha = await new GitRepository(Runner, RootDirectory).HeadCommitAsync(cancellationToken);
        }
        catch (BuildFailure)
        {
            // Not a git checkout (an unpacked release): the record simply has no sha.
        }
        return new ReleaseStamp(Report.RunId, who, where, sha);
    }

    private ApplyOptions ApplyOptionsFor() => new() { Excluded = TerraformOwnedObjects(), DefaultNamespace = Namespace, DryRun = IsDryRun };

    private RolloutWaitOptions WaitOptions() => new()
    {
        DeadlineOverride = RolloutDeadlines.ValidateOverride(RolloutTimeout),
        OnProgress = p => Log.Information("[{Workload}] {Message}", p.Workload.Name, p.Message),
    };

    private async Task<IReadOnlyList<ObjectRef>> RenderedWorkloadsAsync(CancellationToken cancellationToken) =>
        [.. (await RenderAsync(cancellationToken)).Select(o => o.Ref).Where(IsWorkload)];

    private async Task ReloadAsync(CancellationToken cancellationToken)
    {
        var rendered = await RenderAsync(cancellationToken);
        var plan = ReloadPlan.For(Workloads, [.. rendered.Select(o => o.Ref).Where(IsWorkload)]);
        Log.Information("Reload: {Plan}", plan);
        await TakeDeployLockAsync(cancellationToken);
        var operations = await OperationsAsync(cancellationToken);
        var report = await operations.ReloadAsync(plan, rendered, RootDirectory, ApplyOptionsFor(), WaitOptions(), cancellationToken);
        foreach (var result in report.Results)
            Note($"{result.Workload.Name}: {result.Outcome.ToString().ToLowerInvariant()}");
        report.ThrowIfFailed();
    }

    private async Task DeployComputeAsync(CancellationToken cancellationToken)
    {
        var objects = await new KustomizeRenderer(Runner).RenderAsync(Path.Combine(RootDirectory, Settings.ComputeOverlay!), cancellationToken);
        await TakeDeployLockAsync(cancellationToken);
        var operations = await OperationsAsync(cancellationToken);
        var report = await operations.DeployComputeAsync(objects, ApplyOptionsFor(), WaitOptions(), cancellationToken);
        foreach (var result in report.Results)
            Note($"{result.Workload.Name}: {result.Outcome.ToString().ToLowerInvariant()} ({Durations.Format(result.Duration)})");
        report.ThrowIfFailed();
    }

    private async Task SafeShutdownAsync(CancellationToken cancellationToken)
    {
        if (Settings.RequiresApproval && !IsDryRun)
            await new Approvals(Approve, Console.In, Console.Out, IsInteractive).RequireAsync($"Shut {Settings.Id} down: scale the user projects, the worker and the backend to zero (counts recorded for Resume)?", "yes", cancellationToken);
        await TakeDeployLockAsync(cancellationToken);
        var report = await (await OperationsAsync(cancellationToken)).SafeShutdownAsync(cancellationToken);
        Note($"deleted {report.DeletedProjectPods.Count} project pod(s)");
        foreach (var recorded in report.Recorded)
            Note($"{recorded}");
    }

    private async Task ResumeAsync(CancellationToken cancellationToken)
    {
        await TakeDeployLockAsync(cancellationToken);
        foreach (var restored in await (await OperationsAsync(cancellationToken)).ResumeAsync(cancellationToken))
            Note($"{restored}");
    }

    private async Task StatusAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        var status = await (await OperationsAsync(cancellationToken)).StatusAsync(await RenderedWorkloadsAsync(cancellationToken), Lock(cluster), cancellationToken, new ImageRevisions(RegistryClient, Log));
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
        var result = await DatabaseMigration.RunAsync(await ClusterAsync(cancellationToken), Log, SeedTimeout, cancellationToken);
        Note($"alembic upgrade head exited {result.ExitCode}");
    }

    private async Task ScaleAsync(CancellationToken cancellationToken)
    {
        var rendered = await RenderedWorkloadsAsync(cancellationToken);
        PlatformOperations.ValidateScale(Workloads, Replicas, rendered);
        await TakeDeployLockAsync(cancellationToken);
        foreach (var record in await (await OperationsAsync(cancellationToken)).ScaleAsync(Workloads, Replicas, rendered, cancellationToken))
            Note($"{record}");
    }

    private async Task FollowLogsAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        var workloads = PlatformWorkloads.Resolve(Workloads, await RenderedWorkloadsAsync(cancellationToken));
        var logs = new PodLogs(cluster, Log);
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
        await new Approvals(Approve, Console.In, Console.Out, IsInteractive).RequireAsync($"Delete {candidates.Count} project namespace(s) listed above?", "yes", cancellationToken);
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
            await action(new TfvarsSync(session.SecretsManager, new Approvals(Approve, Console.In, Console.Out, IsInteractive), Log));
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
