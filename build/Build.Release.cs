using Tesslate.Build.Engine;
using Tesslate.Build.Git;
using Tesslate.Build.GitHub;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

// The release around the apply: deploy lock, before/after snapshots, release history, promotion, rollback, seeds.
internal sealed partial class Build
{
    private ReleaseOperation DeployRelease => _run.Operation(ReleaseKind.Deploy);

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
        if (Changes.Cluster)
            await _run.DeployLock.GetAsync(() => AcquireDeployLockAsync(cancellationToken));
    }

    private async Task<HeldDeployLock?> AcquireDeployLockAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        var deployLock = Lock(cluster);
        if (IsDryRun)
        {
            var state = await deployLock.InspectAsync(Holder, cancellationToken);
            Note($"deploy lock: {state.Description}");
            return null;
        }
        var held = await deployLock.AcquireAsync(Holder, BreakLock, cancellationToken);
        Cleanup.Register("release the deploy lock", () => held.DisposeAsync().AsTask());
        if (held.IsGuarded && IsPlanned(nameof(Deploy)))
            Cleanup.Register("record a failed release", RecordFailedReleaseAsync);
        Note(held.IsGuarded ? $"deploy lock held by {Holder}" : "no deploy lock (the namespace does not exist yet): Terraform's state lock is the only guard");
        return held;
    }

    /// <summary>The deploy lock this run holds, once taken.</summary>
    private HeldDeployLock? HeldLock => _run.DeployLock.ValueOrDefault;

    /// <summary>
    /// Before every change this run makes to the environment (a write to its cluster, a command in one of its pods, an
    /// environment tag moved, Terraform's apply): a run that lost the deploy lock stops, naming who holds it now; in an
    /// environment that needs approval, the first change waits for the run's one approval. Derived from what a target
    /// does, not from a list of targets, so a target added later asks too.
    /// </summary>
    private async Task BeforeChangeAsync(string change, CancellationToken cancellationToken)
    {
        HeldLock?.ThrowIfLost();
        if (Settings.RequiresApproval && !IsDryRun && !RecordingOnly.Value)
            await ApproveOnceAsync($"{Scheduler.Current?.Name ?? "This run"} changes {Settings.Id} (first: {change}). Approve?", cancellationToken);
    }

    /// <summary>Set while the run only records what happened (a failed release's history entry): bookkeeping, not a change needing approval.</summary>
    private static readonly AsyncLocal<bool> RecordingOnly = new();

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
            name => EnvironmentVariables.GetValueOrDefault(name));
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

    private async Task RecordFailedReleaseAsync()
    {
        var release = DeployRelease;
        if (release.Recorded.ValueOrDefault is not null || ConnectedCluster is not { } cluster)
            return;
        if (_run.Approval.Started is { IsCompletedSuccessfully: false })
            return; // stopped for the approval before its first change: nothing happened to record
        if (HeldLock?.LostTo is { } holderNow)
        {
            // The history belongs to the run that holds the lock now; the summary says what this one changed.
            Log.Warning("This release is not recorded in the history: the deploy lock was lost ({HolderNow}).", holderNow);
            return;
        }
        RecordingOnly.Value = true;
        var outcome = release.RolledBack.ValueOrDefault is null ? ReleaseOutcome.Failed : ReleaseOutcome.RolledBack;
        var record = await RecordAsync(cluster, ReleaseKind.Deploy, outcome, new() { ApplicationCommit = await DecidedApplicationShaAsync() }, CancellationToken.None);
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

    /// <summary>What the release record keeps of the takeovers (null: none, so old records and new ones read alike).</summary>
    private IReadOnlyList<string>? TakenOverNames => _run.TakenOver.IsEmpty ? null : [.. _run.TakenOver.Select(t => $"{t.Object} from {string.Join(", ", t.TakenOverFrom)}")];

    private static IReadOnlyList<string>? AllowedVolumeChangeNames(ReleaseOperation operation) =>
        operation.Guard.ValueOrDefault?.AllowedVolumeChanges is { Count: > 0 } allowed ? [.. allowed.Select(c => c.ToString())] : null;

    /// <summary>What a release record says beyond the workloads: the "after" when the caller has it, the application commit, a message.</summary>
    private sealed record RecordDetails
    {
        public IReadOnlyList<WorkloadState>? After { get; init; }
        public string? ApplicationCommit { get; init; }
        public string? Message { get; init; }
    }

    /// <summary>
    /// A release operation's history record (Deploy, Reload, DeployCompute), written the one way: what its workloads ran
    /// before and run now, how it ended, what the run took over from kubectl apply and which data volume changes it was
    /// allowed.
    /// </summary>
    private async Task<ReleaseRecord> RecordAsync(KubeCluster cluster, ReleaseKind kind, ReleaseOutcome outcome, RecordDetails details, CancellationToken cancellationToken)
    {
        var operation = _run.Operation(kind);
        var after = details.After ?? await new WorkloadSnapshot(cluster).CaptureAsync(operation.BeforeOrEmpty.Select(b => b.Workload), cancellationToken);
        var draft = ReleaseRecord.Create(kind, Holder, (await StampAsync(cancellationToken)).GitSha, outcome, WorkloadSnapshot.Compare(operation.BeforeOrEmpty, after), message: details.Message) with
        {
            ApplicationCommit = details.ApplicationCommit,
            TakenOver = TakenOverNames,
            AllowedVolumeChanges = AllowedVolumeChangeNames(operation),
        };
        return await History(cluster).AppendAsync(draft, cancellationToken);
    }

    /// <summary>An operation's record (Reload, DeployCompute), noted on the target.</summary>
    private async Task RecordOperationAsync(KubeCluster cluster, ReleaseKind kind, ReleaseOutcome outcome, string message, CancellationToken cancellationToken)
    {
        var record = await RecordAsync(cluster, kind, outcome, new() { Message = message }, cancellationToken);
        Note($"release {record.Id} recorded: {record.Summary}");
    }

    /// <summary>A rollback never sets a catalog image by tag; the Volume Hub is restored after the CSI node DaemonSet rolled.</summary>
    private RollbackContext WithReleaseRules(RollbackContext context) => context with
    {
        DigestOnly = repository => ClusterRelease.CatalogRepositories.Contains(repository),
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
                images[container] = reference.Digest is null && reference.Tag is { } tag && ClusterRelease.CatalogRepositories.Contains(reference.Repository)
                    && await RegistryClient.GetDigestAsync(reference.Path, tag, cancellationToken) is { } digest
                    ? $"{reference.Repository}@{digest}"
                    : image;
            }
            restores.Add(restore with { Images = images });
        }
        return plan with { Restores = restores };
    }

    private TagPromotion Promotion => new(new RegistryImageTagger(RegistryClient, BeforeChangeAsync), Log);

    private IReadOnlySet<string> AlsoLatest => Catalog.Images.Where(i => i.Tags.LatestOn.Contains(Settings.Id)).Select(i => $"{Settings.Registry}/{i.Repository}").ToHashSet(StringComparer.Ordinal);

    private PromotionRequest PromotionFor(IEnumerable<WorkloadState> states) =>
        new(WorkloadSnapshot.DeployedDigests(states).Where(p => ClusterRelease.CatalogRepositories.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value), Settings.ImageTag!, AlsoLatest);

    /// <summary>The workloads that read the run-time images at start: a rollback that restores them restarts these.</summary>
    private async Task<IReadOnlyDictionary<ObjectRef, IReadOnlyList<ObjectRef>>> RuntimeImageReadersAsync(CancellationToken cancellationToken) =>
        new Dictionary<ObjectRef, IReadOnlyList<ObjectRef>> { [ClusterStage.RuntimeImages] = [.. ClusterStage.ReadersOf(await ClusterRelease.RenderAsync(cancellationToken), ClusterStage.RuntimeImages.Name)] };

    /// <summary>With --rollback-on-failure: every workload this run changed goes back to what it ran before.</summary>
    private async Task RollBackThisRunAsync(ReleaseOperation operation, CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        var after = await new WorkloadSnapshot(cluster).CaptureAsync(operation.BeforeOrEmpty.Select(b => b.Workload), cancellationToken);
        var plan = await PinRecordedTagsAsync(RollbackPlanner.FromRun(WorkloadSnapshot.Compare(operation.BeforeOrEmpty, after)), cancellationToken);
        Log.Warning("Rolling back: {Plan}", plan.Description);
        var result = await new ReleaseRollback(cluster, null, null, Log).ExecuteAsync(plan,
            WithReleaseRules(new RollbackContext(Holder, null, ClusterRelease.WaitOptions()) { Readers = await RuntimeImageReadersAsync(cancellationToken) }), cancellationToken);
        operation.RolledBack.Set(result);
        Note(result.Succeeded ? $"rolled back {result.Changes.Count} workload(s) to their previous digests" : "the rollback itself did not complete: see the rollouts above");
    }

    /// <summary>After every rollout succeeded: move the environment tags to what now runs, then record the release.</summary>
    private async Task PromoteAndRecordAsync(CancellationToken cancellationToken)
    {
        if (IsDryRun)
        {
            await PreviewReleaseAsync(cancellationToken);
            return;
        }
        var release = DeployRelease;
        var cluster = await ClusterAsync(cancellationToken);
        var after = await new WorkloadSnapshot(cluster).CaptureAsync(release.BeforeOrEmpty.Select(b => b.Workload), cancellationToken);
        var rollouts = _run.RolledOut.ValueOrDefault ?? new RolloutWaitReport([]);
        var promoted = await Promotion.PromoteAsync(PromotionFor(after), rollouts, dryRun: false, cancellationToken);
        Note(promoted.Summary);
        var record = await RecordAsync(cluster, ReleaseKind.Deploy, ReleaseOutcome.Succeeded,
            new() { After = after, ApplicationCommit = (await ApplicationCommitAsync(cancellationToken))?.Sha }, cancellationToken);
        Note($"release {record.Id} recorded: {record.Summary}");
        release.Recorded.Set(record);
        if (_run.Deployment.ValueOrDefault is { } deployment)
            await deployment.SucceededAsync(EnvironmentUrl, ExecutionPlan!.Targets.Select(t => $"{t.Name}: {t.Status}"), cancellationToken);
    }

    /// <summary>--dry-run: the lock's state, the release that would be recorded (what runs now → the pinned images) and the tags that would move.</summary>
    private async Task PreviewReleaseAsync(CancellationToken cancellationToken)
    {
        if (ConnectedCluster is not { } cluster)
        {
            Note($"would move :{Settings.ImageTag} to the deployed digests and record the release (no cluster: nothing to preview)");
            return;
        }
        var applied = _run.Applied.ValueOrDefault;
        IReadOnlyList<KubeObject> pinned = [.. applied?.Main.Objects ?? [], .. applied?.Compute?.Objects ?? []];
        var before = DeployRelease.BeforeOrEmpty;
        var after = pinned.Where(o => before.Any(b => b.Workload.Matches(o.Ref))).Select(WorkloadState.From).ToList();
        var draft = ReleaseRecord.Create(ReleaseKind.Deploy, Holder, (await StampAsync(cancellationToken)).GitSha, ReleaseOutcome.Succeeded, WorkloadSnapshot.Compare(before, after)) with
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
        var display = $"ConfigMap {PlatformWorkloads.Namespace}/tesslate-deploy-history";
        var workloads = Workloads.Length == 0 ? null : PlatformWorkloads.Resolve(Workloads, await ClusterRelease.RenderedWorkloadsAsync(cancellationToken)).Select(w => w.Name).ToList();
        var plan = ToTag is not null
            ? await RollbackPlanner.FromTagAsync(await history.ReadAsync(cancellationToken), ToTag, new RegistryImageTagger(RegistryClient), workloads, display, cancellationToken)
            : RollbackPlanner.FromHistory(await history.ReadAsync(cancellationToken), Release is null ? new RollbackSource.Previous() : new RollbackSource.Release(Release), workloads, display);
        Log.Information("Rollback: {Plan}", plan.Description);
        var result = await new ReleaseRollback(cluster, history, Promotion, Log).ExecuteAsync(plan,
            WithReleaseRules(new RollbackContext(Holder, (await StampAsync(cancellationToken)).GitSha, ClusterRelease.WaitOptions())
            {
                EnvironmentTag = Settings.ImageTag,
                AlsoLatest = AlsoLatest,
                DryRun = IsDryRun,
                Readers = await RuntimeImageReadersAsync(cancellationToken),
            }),
            cancellationToken);
        foreach (var change in result.Changes)
            Note($"{change.Workload.Name}: restored");
        result.Rollouts.ThrowIfFailed(ClusterRelease.AfterRolloutOutage);
    }
}
