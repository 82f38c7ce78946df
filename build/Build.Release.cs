using Tesslate.Build.Engine;
using Tesslate.Build.Git;
using Tesslate.Build.GitHub;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

// The release around the apply: deploy lock, before/after snapshots, release history, promotion, rollback, seeds.
internal sealed partial class Build
{
    private static readonly ObjectRef Backend = PlatformWorkloads.Backend;

    private DeploymentRecorder? _deployment;
    private HeldDeployLock? _lock;
    private IReadOnlyList<WorkloadState> _before = [];
    private IReadOnlyList<WorkloadRelease> _changes = [];
    private bool _released;

    private string EnvironmentUrl => $"https://{Settings.Domain}";

    private LockHolder Holder => LockHolder.FromEnvironment(EnvironmentVariables.ToDictionary(p => p.Key, p => (string?)p.Value), Report.RunId);

    /// <summary>
    /// The environment-wide deploy lock, before the first mutation and held to the end (released on failure and
    /// Ctrl-C too). A cluster that does not exist yet (first provisioning) has no lease: Terraform's state lock guards.
    /// Every Deploy that took the lock leaves a release record, even one that fails before anything is applied
    /// (not one that stopped for the approval: it changed nothing).
    /// </summary>
    private async Task TakeDeployLockAsync(CancellationToken cancellationToken)
    {
        if (!Changes.Cluster || _lock is not null)
            return;
        var cluster = await ClusterAsync(cancellationToken);
        var deployLock = Lock(cluster);
        if (IsDryRun)
        {
            var state = await deployLock.InspectAsync(Holder, cancellationToken);
            Note($"deploy lock: {state.Description}");
            return;
        }
        _lock = await deployLock.AcquireAsync(Holder, BreakLock, cancellationToken);
        Cleanup.Register("release the deploy lock", () => _lock.DisposeAsync().AsTask());
        if (_lock.IsGuarded && IsPlanned(nameof(Deploy)))
            Cleanup.Register("record a failed release", RecordFailedReleaseAsync);
        Note(_lock.IsGuarded ? $"deploy lock held by {Holder}" : "no deploy lock (the namespace does not exist yet): Terraform's state lock is the only guard");
    }

    /// <summary>
    /// Before every change this run makes to the environment (a write to its cluster, a command in one of its pods, an
    /// environment tag moved, Terraform's apply): a run that lost the deploy lock stops, naming who holds it now; in an
    /// environment that needs approval, the first change waits for the run's one approval. Derived from what a target
    /// does, not from a list of targets, so a target added later asks too.
    /// </summary>
    private async Task BeforeChangeAsync(string change, CancellationToken cancellationToken)
    {
        _lock?.ThrowIfLost();
        if (Settings.RequiresApproval && !IsDryRun && !RecordingOnly.Value)
            await ApproveOnceAsync($"{Scheduler.Current?.Name ?? "This run"} changes {Settings.Id} (first: {change}). Approve?", cancellationToken);
    }

    private readonly Once _approval = new();

    /// <summary>Set while the run only records what happened (a failed release's history entry): bookkeeping, not a change needing approval.</summary>
    private static readonly AsyncLocal<bool> RecordingOnly = new();

    /// <summary>
    /// The run's one approval (a terminal's yes, or --approve): asked once, by whoever needs it first — the release plan
    /// with its reasons, an operation with its own question, or the change gate before a target's first change.
    /// </summary>
    private Task ApproveOnceAsync(string question, CancellationToken cancellationToken)
        => _approval.RunAsync(() => Approvals.RequireAsync(question, "yes", cancellationToken));

    /// <summary>A GitHub Deployment for this release (laptop or CI), in_progress now, success or failure at the end.</summary>
    private async Task StartDeploymentRecordAsync(CancellationToken cancellationToken)
    {
        if (!IsPlanned(nameof(Deploy)) || IsDryRun || _deployment is not null)
            return;
        var commit = await new GitRepository(Runner, RootDirectory, Tools.Git).HeadCommitAsync(cancellationToken);
        var application = await ApplicationCommitAsync(cancellationToken);
        _deployment = await DeploymentRecords.CreateAsync(GitHubToken, Settings.Id, commit, application?.Sha, Settings.RequiresApproval, RootDirectory, Runner, Log, cancellationToken,
            name => EnvironmentVariables.GetValueOrDefault(name));
        await _deployment.StartAsync(cancellationToken);
        Cleanup.Register("finish the GitHub deployment record", async () =>
        {
            if (_released)
                return;
            var failed = ExecutionPlan!.Targets.FirstOrDefault(t => t.Status is TargetStatus.Failed or TargetStatus.Aborted or TargetStatus.AwaitingApproval);
            await _deployment.FailedAsync(failed?.Name ?? "Deploy", failed?.Note is { } note ? [note] : null, CancellationToken.None);
        });
    }

    /// <summary>What the release's workloads run before anything is applied: the "before" of the history record.</summary>
    private async Task CaptureBeforeAsync(KubeCluster cluster, IEnumerable<ObjectRef> workloads, CancellationToken cancellationToken) =>
        _before = await new WorkloadSnapshot(cluster).CaptureAsync(workloads, cancellationToken);

    private async Task RecordFailedReleaseAsync()
    {
        if (_released || ConnectedCluster is not { } cluster)
            return;
        if (_approval.Started is { IsCompletedSuccessfully: false })
            return; // stopped for the approval before its first change: nothing happened to record
        if (_lock?.LostTo is { } holderNow)
        {
            // The history belongs to the run that holds the lock now; the summary says what this one changed.
            Log.Warning("This release is not recorded in the history: the deploy lock was lost ({HolderNow}).", holderNow);
            return;
        }
        RecordingOnly.Value = true;
        var after = await new WorkloadSnapshot(cluster).CaptureAsync(_before.Select(b => b.Workload), CancellationToken.None);
        var outcome = _rolledBack ? ReleaseOutcome.RolledBack : ReleaseOutcome.Failed;
        var draft = ReleaseRecord.Create(ReleaseKind.Deploy, Holder, (await StampAsync(CancellationToken.None)).GitSha, outcome, WorkloadSnapshot.Compare(_before, after)) with
        {
            ApplicationCommit = await DecidedApplicationShaAsync(),
            TakenOver = TakenOverNames,
            AllowedVolumeChanges = AllowedVolumeChangeNames,
        };
        var record = await History(cluster).AppendAsync(draft, CancellationToken.None);
        Log.Warning("Recorded release {Id} as {Outcome}: {Summary}", record.Id, outcome, record.Summary);
    }

    /// <summary>For the record of a failed release: the application commit, unless deciding it was what failed.</summary>
    private async Task<string?> DecidedApplicationShaAsync()
    {
        try
        {
            return (await ApplicationCommitAsync(CancellationToken.None))?.Sha;
        }
        catch (BuildFailure)
        {
            return null;
        }
    }

    private bool _rolledBack;

    /// <summary>What the release record keeps of the takeovers (null: none, so old records and new ones read alike).</summary>
    private IReadOnlyList<string>? TakenOverNames => _takenOver.IsEmpty ? null : [.. _takenOver.Select(t => $"{t.Object} from {string.Join(", ", t.TakenOverFrom)}")];

    private IReadOnlyList<string>? AllowedVolumeChangeNames => _guard?.AllowedVolumeChanges is { Count: > 0 } allowed ? [.. allowed.Select(c => c.ToString())] : null;

    /// <summary>The guard of the changes this run made (the one checked right before them).</summary>
    private GuardReport? _guard;

    /// <summary>
    /// An operation's release record (Reload, DeployCompute): what its workloads ran before and run now, how it ended,
    /// what it took over from kubectl apply and which data volume changes it was allowed.
    /// </summary>
    private async Task<ReleaseRecord> RecordOperationAsync(KubeCluster cluster, ReleaseKind kind, ReleaseOutcome outcome, string message, CancellationToken cancellationToken)
    {
        var after = await new WorkloadSnapshot(cluster).CaptureAsync(_before.Select(b => b.Workload), CancellationToken.None);
        var record = await History(cluster).AppendAsync(ReleaseRecord.Create(kind, Holder, (await StampAsync(CancellationToken.None)).GitSha, outcome,
            WorkloadSnapshot.Compare(_before, after), message: message) with
        { TakenOver = TakenOverNames, AllowedVolumeChanges = AllowedVolumeChangeNames }, cancellationToken);
        Note($"release {record.Id} recorded: {record.Summary}");
        return record;
    }

    /// <summary>A rollback never sets a catalog image by tag; the Volume Hub is restored after the CSI node DaemonSet rolled.</summary>
    private RollbackContext WithReleaseRules(RollbackContext context) => context with
    {
        DigestOnly = repository => CatalogRepositories.Contains(repository),
        After = new Dictionary<ObjectRef, ObjectRef> { [PlatformWorkloads.VolumeHub] = PlatformWorkloads.CsiNode },
    };

    /// <summary>
    /// This run's "before" may name a catalog image by tag (what kubectl apply left): the run moved no tag (it failed),
    /// so that tag still names what ran; the rollback restores its digest.
    /// </summary>
    private async Task<RollbackPlan> PinRecordedTagsAsync(RollbackPlan plan, CancellationToken cancellationToken)
    {
        var restores = new List<WorkloadRestore>();
        foreach (var restore in plan.Restores)
        {
            var images = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (container, image) in restore.Images)
            {
                var reference = Tesslate.Build.Registry.ImageReference.Parse(image);
                images[container] = reference.Digest is null && reference.Tag is { } tag && CatalogRepositories.Contains(reference.Repository)
                    && await RegistryClient.GetDigestAsync(reference.Path, tag, cancellationToken) is { } digest
                    ? $"{reference.Repository}@{digest}"
                    : image;
            }
            restores.Add(restore with { Images = images });
        }
        return plan with { Restores = restores };
    }

    private TagPromotion Promotion => new(new RegistryImageTagger(RegistryClient, BeforeChangeAsync), Log);

    private IReadOnlySet<string> CatalogRepositories => Catalog.Images.Select(i => $"{Settings.Registry}/{i.Repository}").ToHashSet(StringComparer.Ordinal);

    private IReadOnlySet<string> AlsoLatest => Catalog.Images.Where(i => i.Tags.LatestOn.Contains(Settings.Id)).Select(i => $"{Settings.Registry}/{i.Repository}").ToHashSet(StringComparer.Ordinal);

    private PromotionRequest PromotionFor(IEnumerable<WorkloadState> states) =>
        new(WorkloadSnapshot.DeployedDigests(states).Where(p => CatalogRepositories.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value), Settings.ImageTag!, AlsoLatest);

    /// <summary>The workloads that read the run-time images at start: a rollback that restores them restarts these.</summary>
    private async Task<IReadOnlyDictionary<ObjectRef, IReadOnlyList<ObjectRef>>> RuntimeImageReadersAsync(CancellationToken cancellationToken) =>
        new Dictionary<ObjectRef, IReadOnlyList<ObjectRef>> { [RuntimeImages] = [.. ReadersOf(await RenderAsync(cancellationToken), RuntimeImages.Name)] };

    /// <summary>With --rollback-on-failure: every workload this run changed goes back to what it ran before.</summary>
    private async Task RollBackThisRunAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        var after = await new WorkloadSnapshot(cluster).CaptureAsync(_before.Select(b => b.Workload), cancellationToken);
        var plan = await PinRecordedTagsAsync(RollbackPlanner.FromRun(WorkloadSnapshot.Compare(_before, after)), cancellationToken);
        Log.Warning("Rolling back: {Plan}", plan.Description);
        var result = await new ReleaseRollback(cluster, null, null, Log).ExecuteAsync(plan,
            WithReleaseRules(new RollbackContext(Holder, null, WaitOptions()) { Readers = await RuntimeImageReadersAsync(cancellationToken) }), cancellationToken);
        _rolledBack = true;
        Note(result.Succeeded ? $"rolled back {result.Changes.Count} workload(s) to their previous digests" : "the rollback itself did not complete: see the rollouts above");
    }

    private async Task SeedAppsAsync(CancellationToken cancellationToken)
    {
        PodCommandJudge.ValidateTimeout(SeedTimeout, "--seed-timeout");
        var backendInRun = CurrentBuildReport()?["backend"] is { Digest: not null };
        if (PodCommandGate.WhyNot("backend", backendInRun, Backend, _rolledOut.ValueOrDefault) is { } reason)
        {
            Note($"skipped: {reason}");
            return;
        }
        if (IsDryRun)
        {
            Note("would run python -m scripts.seed_apps in a Ready pod of the new backend");
            return;
        }
        var cluster = await ClusterAsync(cancellationToken);
        var result = await new PodCommandRunner(cluster.Client, Log, cluster.BeforeChangeAsync).RunAsync(
            new PodCommand("SeedApps", Namespace, Backend.Name, ["python", "-m", "scripts.seed_apps"])
            {
                Timeout = SeedTimeout,
                OnFailure = SeedFailure == SeedFailurePolicy.Fail ? CommandFailurePolicy.Fail : CommandFailurePolicy.Warn,
                TimeoutSetting = "--seed-timeout",
                WarnSetting = "--seed-failure warn",
            },
            cancellationToken);
        Report.SetSection("seed", result);
        if (result.IsWarning)
            Log.Warning("Apps registry seed reported a failure ({Message}); the release goes on (--seed-failure warn). Inspect the backend logs: ./build.sh Logs --environment {Environment} --workloads backend", result.Message, Settings.Id);
        Note(result.Message);
    }

    /// <summary>After every rollout succeeded: move the environment tags to what now runs, then record the release.</summary>
    private async Task PromoteAndRecordAsync(CancellationToken cancellationToken)
    {
        if (IsDryRun)
        {
            await PreviewReleaseAsync(cancellationToken);
            return;
        }
        var cluster = await ClusterAsync(cancellationToken);
        var after = await new WorkloadSnapshot(cluster).CaptureAsync(_before.Select(b => b.Workload), cancellationToken);
        var rollouts = _rolledOut.ValueOrDefault ?? new RolloutWaitReport([]);
        var promoted = await Promotion.PromoteAsync(PromotionFor(after), rollouts, dryRun: false, cancellationToken);
        Note(promoted.Summary);
        _changes = WorkloadSnapshot.Compare(_before, after);
        var draft = ReleaseRecord.Create(ReleaseKind.Deploy, Holder, (await StampAsync(cancellationToken)).GitSha, ReleaseOutcome.Succeeded, _changes) with
        {
            ApplicationCommit = (await ApplicationCommitAsync(cancellationToken))?.Sha,
            TakenOver = TakenOverNames,
            AllowedVolumeChanges = AllowedVolumeChangeNames,
        };
        var record = await History(cluster).AppendAsync(draft, cancellationToken);
        Note($"release {record.Id} recorded: {record.Summary}");
        _released = true;
        if (_deployment is not null)
            await _deployment.SucceededAsync(EnvironmentUrl, ExecutionPlan!.Targets.Select(t => $"{t.Name}: {t.Status}"), cancellationToken);
    }

    /// <summary>--dry-run: the lock's state, the release that would be recorded (what runs now → the pinned images) and the tags that would move.</summary>
    private async Task PreviewReleaseAsync(CancellationToken cancellationToken)
    {
        if (ConnectedCluster is not { } cluster)
        {
            Note($"would move :{Settings.ImageTag} to the deployed digests and record the release (no cluster: nothing to preview)");
            return;
        }
        var applied = _applied.ValueOrDefault;
        IReadOnlyList<KubeObject> pinned = [.. applied?.Main.Objects ?? [], .. applied?.Compute?.Objects ?? []];
        var after = pinned.Where(o => _before.Any(b => b.Workload.Matches(o.Ref))).Select(WorkloadState.From).ToList();
        var draft = ReleaseRecord.Create(ReleaseKind.Deploy, Holder, (await StampAsync(cancellationToken)).GitSha, ReleaseOutcome.Succeeded, WorkloadSnapshot.Compare(_before, after)) with
        {
            ApplicationCommit = (await ApplicationCommitAsync(cancellationToken))?.Sha,
        };
        var registry = await RegistryReachableAsync(cancellationToken);
        var preview = await ReleasePreview.BuildAsync(Lock(cluster), Holder, History(cluster), draft, registry ? Promotion : null, registry ? PromotionFor(after) : null, cancellationToken);
        preview.Log(Log);
        Note($"would record release {preview.Record.Id} and move {(registry ? preview.Tags.Count(t => t.IsChange).ToString(System.Globalization.CultureInfo.InvariantCulture) : "(registry not reachable)")} tag(s)");
    }

    private async Task RollbackAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        await TakeDeployLockAsync(cancellationToken);
        var history = History(cluster);
        var display = $"ConfigMap {Namespace}/tesslate-deploy-history";
        var workloads = Workloads.Length == 0 ? null : PlatformWorkloads.Resolve(Workloads, await RenderedWorkloadsAsync(cancellationToken)).Select(w => w.Name).ToList();
        var plan = ToTag is not null
            ? await RollbackPlanner.FromTagAsync(await history.ReadAsync(cancellationToken), ToTag, new RegistryImageTagger(RegistryClient), workloads, display, cancellationToken)
            : RollbackPlanner.FromHistory(await history.ReadAsync(cancellationToken), Release is null ? new RollbackSource.Previous() : new RollbackSource.Release(Release), workloads, display);
        Log.Information("Rollback: {Plan}", plan.Description);
        var result = await new ReleaseRollback(cluster, history, Promotion, Log).ExecuteAsync(plan,
            WithReleaseRules(new RollbackContext(Holder, (await StampAsync(cancellationToken)).GitSha, WaitOptions())
            {
                EnvironmentTag = Settings.ImageTag,
                AlsoLatest = AlsoLatest,
                DryRun = IsDryRun,
                Readers = await RuntimeImageReadersAsync(cancellationToken),
            }),
            cancellationToken);
        foreach (var change in result.Changes)
            Note($"{change.Workload.Name}: restored");
        result.Rollouts.ThrowIfFailed();
    }
}
