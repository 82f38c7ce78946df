using System.Collections.Concurrent;
using Tesslate.Build.Engine;
using Tesslate.Build.GitHub;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Platform;

/// <summary>What the release record stage is given for its run, bound once from the parameters and the run's services.</summary>
/// <param name="Holder">Who this run is, as the deploy lock and the history name it.</param>
/// <param name="Cluster">The run's cluster release (catalog repositories, rendered overlays, rollout options).</param>
/// <param name="Connect">The cluster this run acts on now.</param>
/// <param name="Connected">That cluster, if a target already connected to it (null: nothing to record or preview there).</param>
/// <param name="Registry">The run's registry client.</param>
/// <param name="RegistryReachable">Under dry-run, whether the registry may be asked at all.</param>
/// <param name="BeforeChange">The run's change gate (lost lock, approval) before a tag moves.</param>
/// <param name="Stamp">Who, where and which commit of this repository the run is, for the history.</param>
/// <param name="ApplicationCommit">The application commit this run deploys (decided once).</param>
/// <param name="Operation">What each release operation of the run (Deploy, Reload, DeployCompute) keeps for its record.</param>
/// <param name="DeployLock">The run's deploy lock, taken once.</param>
/// <param name="Cleanup">Work the run does at its end, even after a failure or Ctrl-C.</param>
/// <param name="ChangesCluster">Whether the run still changes the cluster (the lock is taken only then).</param>
/// <param name="DeployPlanned">Whether the run is a Deploy (only a Deploy records a failed release).</param>
/// <param name="StoppedForApproval">Whether the run's approval was asked and not given (it changed nothing).</param>
/// <param name="DeploymentSucceeded">Reports the recorded release to the GitHub Deployment, when there is one.</param>
public sealed record ReleaseRecordInputs(
    LockHolder Holder,
    ClusterStage Cluster,
    Func<CancellationToken, Task<KubeCluster>> Connect,
    Func<KubeCluster?> Connected,
    Func<RegistryClient> Registry,
    Func<CancellationToken, Task<bool>> RegistryReachable,
    ChangeGate BeforeChange,
    Func<CancellationToken, Task<ReleaseStamp>> Stamp,
    Func<CancellationToken, Task<ApplicationCommit?>> ApplicationCommit,
    Func<ReleaseKind, ReleaseOperation> Operation,
    Once<HeldDeployLock?> DeployLock,
    RunCleanup Cleanup,
    Func<bool> ChangesCluster,
    Func<bool> DeployPlanned,
    Func<bool> StoppedForApproval,
    Func<CancellationToken, Task> DeploymentSucceeded)
{
    public TimeSpan DeployLockLease { get; init; } = TimeSpan.FromSeconds(90);
    public bool BreakLock { get; init; }

    /// <summary>Rollback: --workloads (empty: all), --to-tag, --release.</summary>
    public IReadOnlyList<string> Workloads { get; init; } = [];
    public string? ToTag { get; init; }
    public string? Release { get; init; }
}

/// <summary>What a release record says beyond the workloads: the "after" when the caller has it, the application commit, a message.</summary>
public sealed record RecordDetails
{
    public IReadOnlyList<WorkloadState>? After { get; init; }
    public string? ApplicationCommit { get; init; }
    public string? Message { get; init; }
}

/// <summary>
/// The release around the apply, for one run, created once from the bound settings: the environment-wide deploy lock,
/// the release history (what each operation's workloads ran before and run now), the environment tags moved after
/// success, the dry run's preview of both, and the rollbacks (of this run with --rollback-on-failure, or to a
/// recorded release). Deploy's promotion and Rollback each make one call here.
/// </summary>
public sealed class ReleaseRecordStage(EnvironmentSettings settings, ReleaseRecordInputs inputs, StageContext run)
{
    private const string Namespace = PlatformWorkloads.Namespace;

    /// <summary>Set while the run only records what happened (a failed release's history entry): bookkeeping, not a change needing approval.</summary>
    private static readonly AsyncLocal<bool> RecordingOnly = new();

    /// <summary>Whether the current flow only records what happened (the change gate asks no approval for it).</summary>
    public static bool IsRecordingOnly => RecordingOnly.Value;

    private ClusterStage Cluster => inputs.Cluster;

    private ReleaseOperation DeployRelease => inputs.Operation(ReleaseKind.Deploy);

    public LockHolder Holder => inputs.Holder;

    /// <summary>The deploy lock this run holds, once taken.</summary>
    public HeldDeployLock? HeldLock => inputs.DeployLock.ValueOrDefault;

    public ReleaseHistory History(KubeCluster cluster) => new(cluster.Client, new ReleaseHistoryOptions(Namespace, "tesslate-deploy-history"), run.Log);

    public DeployLock Lock(KubeCluster cluster) =>
        new(cluster.Client, new DeployLockOptions(Namespace, "tesslate-deploy")
        {
            LeaseDuration = inputs.DeployLockLease,
            RenewInterval = inputs.DeployLockLease / 3,
            BreakLockSetting = "--break-lock",
            CheckEnvironment = $"./build.sh Status --environment {settings.Id}",
        }, run.Log);

    /// <summary>
    /// The environment-wide deploy lock, before the first mutation and held to the end (released on failure and
    /// Ctrl-C too). A cluster that does not exist yet (first provisioning) has no lease: Terraform's state lock guards.
    /// Every Deploy that took the lock leaves a release record, even one that fails before anything is applied
    /// (not one that stopped for the approval: it changed nothing).
    /// </summary>
    public async Task TakeDeployLockAsync(CancellationToken cancellationToken)
    {
        if (inputs.ChangesCluster())
            await inputs.DeployLock.GetAsync(() => AcquireDeployLockAsync(cancellationToken));
    }

    private async Task<HeldDeployLock?> AcquireDeployLockAsync(CancellationToken cancellationToken)
    {
        var cluster = await inputs.Connect(cancellationToken);
        var deployLock = Lock(cluster);
        if (run.DryRun)
        {
            var state = await deployLock.InspectAsync(Holder, cancellationToken);
            StageContext.Note($"deploy lock: {state.Description}");
            return null;
        }
        var held = await deployLock.AcquireAsync(Holder, inputs.BreakLock, cancellationToken);
        inputs.Cleanup.Register("release the deploy lock", () => held.DisposeAsync().AsTask());
        if (held.IsGuarded && inputs.DeployPlanned())
            inputs.Cleanup.Register("record a failed release", RecordFailedReleaseAsync);
        StageContext.Note(held.IsGuarded ? $"deploy lock held by {Holder}" : "no deploy lock (the namespace does not exist yet): Terraform's state lock is the only guard");
        return held;
    }

    private async Task RecordFailedReleaseAsync()
    {
        var release = DeployRelease;
        if (release.Recorded.ValueOrDefault is not null || inputs.Connected() is not { } cluster)
            return;
        if (inputs.StoppedForApproval())
            return; // stopped for the approval before its first change: nothing happened to record
        if (HeldLock?.LostTo is { } holderNow)
        {
            // The history belongs to the run that holds the lock now; the summary says what this one changed.
            run.Log.Warning("This release is not recorded in the history: the deploy lock was lost ({HolderNow}).", holderNow);
            return;
        }
        RecordingOnly.Value = true;
        var outcome = release.RolledBack.ValueOrDefault is null ? ReleaseOutcome.Failed : ReleaseOutcome.RolledBack;
        var record = await RecordAsync(cluster, ReleaseKind.Deploy, outcome, new() { ApplicationCommit = await DecidedApplicationShaAsync() }, CancellationToken.None);
        run.Log.Warning("Recorded release {Id} as {Outcome}: {Summary}", record.Id, outcome, record.Summary);
    }

    /// <summary>For the record of a failed release: the application commit, unless deciding it was what failed.</summary>
    private async Task<string?> DecidedApplicationShaAsync()
    {
        try
        {
            return (await inputs.ApplicationCommit(CancellationToken.None))?.Sha;
        }
        catch (BuildFailure)
        {
            return null;
        }
    }

    /// <summary>What the release record keeps of the takeovers (null: none, so old records and new ones read alike).</summary>
    private static IReadOnlyList<string>? TakenOverNames(ReleaseOperation operation) => operation.TakenOver.IsEmpty ? null : [.. operation.TakenOver.Select(t => $"{t.Object} from {string.Join(", ", t.TakenOverFrom)}")];

    private static IReadOnlyList<string>? AllowedVolumeChangeNames(ReleaseOperation operation) =>
        operation.Guard.ValueOrDefault?.AllowedVolumeChanges is { Count: > 0 } allowed ? [.. allowed.Select(c => c.ToString())] : null;

    /// <summary>
    /// A release operation's history record (Deploy, Reload, DeployCompute), written the one way: what its workloads ran
    /// before and run now, how it ended, what the run took over from kubectl apply and which data volume changes it was
    /// allowed.
    /// </summary>
    public async Task<ReleaseRecord> RecordAsync(KubeCluster cluster, ReleaseKind kind, ReleaseOutcome outcome, RecordDetails details, CancellationToken cancellationToken)
    {
        var operation = inputs.Operation(kind);
        var after = details.After ?? await new WorkloadSnapshot(cluster).CaptureAsync(operation.BeforeOrEmpty.Select(b => b.Workload), cancellationToken);
        var draft = ReleaseRecord.Create(kind, Holder, (await inputs.Stamp(cancellationToken)).GitSha, outcome, WorkloadSnapshot.Compare(operation.BeforeOrEmpty, after), message: details.Message) with
        {
            ApplicationCommit = details.ApplicationCommit,
            TakenOver = TakenOverNames(operation),
            AllowedVolumeChanges = AllowedVolumeChangeNames(operation),
        };
        return await History(cluster).AppendAsync(draft, cancellationToken);
    }

    /// <summary>An operation's record (Reload, DeployCompute), noted on the target.</summary>
    public async Task RecordOperationAsync(KubeCluster cluster, ReleaseKind kind, ReleaseOutcome outcome, string message, CancellationToken cancellationToken)
    {
        var record = await RecordAsync(cluster, kind, outcome, new() { Message = message }, cancellationToken);
        StageContext.Note($"release {record.Id} recorded: {record.Summary}");
    }

    /// <summary>A rollback never sets a catalog image by tag; the Volume Hub is restored after the CSI node DaemonSet rolled.</summary>
    private RollbackContext WithReleaseRules(RollbackContext context) => context with
    {
        DigestOnly = repository => Cluster.CatalogRepositories.Contains(repository),
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
                var reference = ImageReference.Parse(image);
                images[container] = reference.Digest is null && reference.Tag is { } tag && Cluster.CatalogRepositories.Contains(reference.Repository)
                    && await inputs.Registry().GetDigestAsync(reference.Path, tag, cancellationToken) is { } digest
                    ? $"{reference.Repository}@{digest}"
                    : image;
            }
            restores.Add(restore with { Images = images });
        }
        return plan with { Restores = restores };
    }

    public TagPromotion Promotion => new(new RegistryImageTagger(inputs.Registry(), inputs.BeforeChange, rebuild: "BuildImages"), run.Log);

    public PromotionRequest PromotionFor(IEnumerable<WorkloadState> states) =>
        new(WorkloadSnapshot.DeployedDigests(states).Where(p => Cluster.CatalogRepositories.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value), settings.ImageTag!, Cluster.AlsoLatest);

    /// <summary>The workloads that read the run-time images at start: a rollback that restores them restarts these.</summary>
    private async Task<IReadOnlyDictionary<ObjectRef, IReadOnlyList<ObjectRef>>> RuntimeImageReadersAsync(CancellationToken cancellationToken) =>
        new Dictionary<ObjectRef, IReadOnlyList<ObjectRef>> { [ClusterStage.RuntimeImages] = [.. ClusterStage.ReadersOf(await Cluster.RenderAsync(cancellationToken), ClusterStage.RuntimeImages.Name)] };

    /// <summary>With --rollback-on-failure: every workload this run changed goes back to what it ran before.</summary>
    public async Task RollBackThisRunAsync(ReleaseOperation operation, CancellationToken cancellationToken)
    {
        var cluster = await inputs.Connect(cancellationToken);
        var after = await new WorkloadSnapshot(cluster).CaptureAsync(operation.BeforeOrEmpty.Select(b => b.Workload), cancellationToken);
        var plan = await PinRecordedTagsAsync(RollbackPlanner.FromRun(WorkloadSnapshot.Compare(operation.BeforeOrEmpty, after)), cancellationToken);
        run.Log.Warning("Rolling back: {Plan}", plan.Description);
        var result = await new ReleaseRollback(cluster, null, null, run.Log).ExecuteAsync(plan,
            WithReleaseRules(new RollbackContext(Holder, null, Cluster.WaitOptions()) { Readers = await RuntimeImageReadersAsync(cancellationToken) }), cancellationToken);
        operation.RolledBack.Set(result);
        StageContext.Note(result.Succeeded ? $"rolled back {result.Changes.Count} workload(s) to their previous digests" : "the rollback itself did not complete: see the rollouts above");
    }

    /// <summary>Deploy, after every rollout succeeded: move the environment tags to what now runs, then record the release (--dry-run: preview both).</summary>
    public async Task PromoteAndRecordAsync(RolloutWaitReport? rollouts, AppliedRelease? applied, CancellationToken cancellationToken)
    {
        if (run.DryRun)
        {
            await PreviewReleaseAsync(applied, cancellationToken);
            return;
        }
        var release = DeployRelease;
        var cluster = await inputs.Connect(cancellationToken);
        var after = await new WorkloadSnapshot(cluster).CaptureAsync(release.BeforeOrEmpty.Select(b => b.Workload), cancellationToken);
        var promoted = await Promotion.PromoteAsync(PromotionFor(after), rollouts ?? new RolloutWaitReport([]), dryRun: false, cancellationToken);
        StageContext.Note(promoted.Summary);
        var record = await RecordAsync(cluster, ReleaseKind.Deploy, ReleaseOutcome.Succeeded,
            new() { After = after, ApplicationCommit = (await inputs.ApplicationCommit(cancellationToken))?.Sha }, cancellationToken);
        StageContext.Note($"release {record.Id} recorded: {record.Summary}");
        release.Recorded.Set(record);
        await inputs.DeploymentSucceeded(cancellationToken);
    }

    /// <summary>--dry-run: the lock's state, the release that would be recorded (what runs now → the pinned images) and the tags that would move.</summary>
    private async Task PreviewReleaseAsync(AppliedRelease? applied, CancellationToken cancellationToken)
    {
        if (inputs.Connected() is not { } cluster)
        {
            StageContext.Note($"would move :{settings.ImageTag} to the deployed digests and record the release (no cluster: nothing to preview)");
            return;
        }
        IReadOnlyList<KubeObject> pinned = [.. applied?.Main.Objects ?? [], .. applied?.Compute?.Objects ?? []];
        var before = DeployRelease.BeforeOrEmpty;
        var after = pinned.Where(o => before.Any(b => b.Workload.Matches(o.Ref))).Select(WorkloadState.From).ToList();
        var draft = ReleaseRecord.Create(ReleaseKind.Deploy, Holder, (await inputs.Stamp(cancellationToken)).GitSha, ReleaseOutcome.Succeeded, WorkloadSnapshot.Compare(before, after)) with
        {
            ApplicationCommit = (await inputs.ApplicationCommit(cancellationToken))?.Sha,
            TakenOver = TakenOverNames(DeployRelease),
            AllowedVolumeChanges = AllowedVolumeChangeNames(DeployRelease),
        };
        var registry = await inputs.RegistryReachable(cancellationToken);
        var preview = await ReleasePreview.BuildAsync(Lock(cluster), Holder, History(cluster), draft, registry ? Promotion : null, registry ? PromotionFor(after) : null, cancellationToken);
        preview.Log(run.Log);
        StageContext.Note($"would record release {preview.Record.Id} and move {(registry ? preview.Tags.Count(t => t.IsChange).ToString(System.Globalization.CultureInfo.InvariantCulture) : "(registry not reachable)")} tag(s)");
    }

    /// <summary>Rollback: the previous release, a --release id or --to-tag, for all workloads or --workloads; recorded, tags moved back.</summary>
    public async Task RollbackAsync(CancellationToken cancellationToken)
    {
        var cluster = await inputs.Connect(cancellationToken);
        await TakeDeployLockAsync(cancellationToken);
        var history = History(cluster);
        var display = $"ConfigMap {Namespace}/tesslate-deploy-history";
        var workloads = inputs.Workloads.Count == 0 ? null : PlatformWorkloads.Resolve(inputs.Workloads, await Cluster.RenderedWorkloadsAsync(cancellationToken)).Select(w => w.Name).ToList();
        var choices = new RollbackChoices("--release <id>", "--to-tag git-<sha>", "--workloads a,b");
        var plan = inputs.ToTag is not null
            ? await RollbackPlanner.FromTagAsync(await history.ReadAsync(cancellationToken), inputs.ToTag, new RegistryImageTagger(inputs.Registry(), rebuild: "BuildImages"), workloads, display, cancellationToken, choices)
            : RollbackPlanner.FromHistory(await history.ReadAsync(cancellationToken), inputs.Release is null ? new RollbackSource.Previous() : new RollbackSource.Release(inputs.Release), workloads, display, choices);
        run.Log.Information("Rollback: {Plan}", plan.Description);
        var result = await new ReleaseRollback(cluster, history, Promotion, run.Log).ExecuteAsync(plan,
            WithReleaseRules(new RollbackContext(Holder, (await inputs.Stamp(cancellationToken)).GitSha, Cluster.WaitOptions())
            {
                EnvironmentTag = settings.ImageTag,
                AlsoLatest = Cluster.AlsoLatest,
                DryRun = run.DryRun,
                Readers = await RuntimeImageReadersAsync(cancellationToken),
            }),
            cancellationToken);
        foreach (var change in result.Changes)
            StageContext.Note($"{change.Workload.Name}: restored");
        result.Rollouts.ThrowIfFailed(Cluster.AfterRolloutOutage);
    }
}
