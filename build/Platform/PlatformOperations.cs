using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Kubernetes.Operations;

namespace Tesslate.Build.Platform;

public sealed record ShutdownReport(IReadOnlyList<ObjectRef> DeletedProjectPods, IReadOnlyList<ReplicaRecord> Recorded, ReleaseRecord? Release);

/// <summary>Who and what a history record names (the run's identity, from the caller).</summary>
public sealed record ReleaseStamp(string RunId, string Who, string Where, string? GitSha);

/// <summary>What Status prints: per workload state, the current release from the history, and the deploy lock's state.</summary>
public sealed record EnvironmentStatus(IReadOnlyList<WorkloadReadiness> Workloads, string? CurrentRelease, string? Lock)
{
    public IReadOnlyList<string> Lines()
    {
        var lines = new List<string>
        {
            $"Release: {CurrentRelease ?? "(none recorded)"}",
            $"Deploy lock: {Lock ?? "(not checked)"}",
        };
        foreach (var w in Workloads)
        {
            lines.Add(w.Exists ? $"{w.Workload.Name,-34} {w.Ready}/{w.Desired} ready, {w.Updated} updated" : $"{w.Workload.Name,-34} not found");
            foreach (var c in w.Containers)
                lines.Add($"    {c.Container}: {c.Image}{(c.RunningDigests.Count == 0 ? "" : " running " + string.Join(", ", c.RunningDigests))}"
                    + (c.GitSha is null ? "" : $" (git {c.GitSha[..Math.Min(12, c.GitSha.Length)]}{(c.ByTag ? ", by tag" : "")})"));
        }
        return lines;
    }
}

/// <summary>
/// Tesslate's operational procedures on a cluster: safe shutdown and resume, the compute sequence, scaling, status.
/// A shutdown's replica counts are recorded in the release history (a SafeShutdown record, when a history is given)
/// and as an annotation on each workload (<see cref="ShutdownAnnotation"/>), so any machine can resume exactly.
/// Resume reads the history first; the annotations are the fallback for clusters without a history.
/// </summary>
public sealed class PlatformOperations(KubeCluster cluster, ILogger logger, bool dryRun = false, ReleaseHistory? history = null, ReleaseStamp? stamp = null)
{
    public const string ShutdownAnnotation = "tesslate.io/replicas-before-shutdown";

    private readonly ReplicaControl _replicas = new(cluster, logger, dryRun);

    /// <summary>SafeShutdown scales workloads and deletes pods in any proj-* namespace (so cluster-wide): admin.</summary>
    public static IReadOnlyList<PermissionRequirement> ShutdownPermissions { get; } =
    [
        new("list", "", "pods", null), new("delete", "", "pods", null),
        new("list", "apps", "deployments", null), new("get", "apps", "deployments", null), new("patch", "apps", "deployments", null),
        new("list", "apps", "statefulsets", null), new("get", "apps", "statefulsets", null), new("patch", "apps", "statefulsets", null),
    ];

    /// <summary>Resume and Scale only read and patch tesslate Deployments: deployer is enough.</summary>
    public static IReadOnlyList<PermissionRequirement> ScalePermissions { get; } =
        [new("get", "apps", "deployments", PlatformWorkloads.Namespace), new("patch", "apps", "deployments", PlatformWorkloads.Namespace)];

    /// <summary>
    /// The safe-shutdown procedure: stop the user projects (proj-* namespaces) by recording their Deployments' and
    /// StatefulSets' replica counts and scaling them to zero (their pods would come straight back if only deleted),
    /// and delete the pods no controller owns; then record the worker's and the backend's counts and scale them to
    /// zero (worker first, so no job starts on a backend that is leaving).
    /// </summary>
    public async Task<ShutdownReport> SafeShutdownAsync(CancellationToken cancellationToken)
    {
        await PermissionPreflight.EnsureAsync(cluster, ShutdownPermissions, "SafeShutdown scales workloads and deletes pods in every proj-* namespace: run it with --role admin.", cancellationToken);
        var projects = await _replicas.ParkAsync(await _replicas.ListScalableAsync(IsProjectNamespace, cancellationToken), ShutdownAnnotation, cancellationToken);
        var pods = await _replicas.DeleteUnownedPodsAsync(IsProjectNamespace, cancellationToken);
        IReadOnlyList<ReplicaRecord> recorded = [.. projects, .. await _replicas.ParkAsync(PlatformWorkloads.ShutdownWorkloads, ShutdownAnnotation, cancellationToken)];
        var release = await RecordAsync(ReleaseKind.SafeShutdown, [.. recorded.Select(r => (r.Workload, (int?)r.Replicas, (int?)0))], null, "SafeShutdown", cancellationToken);
        return new ShutdownReport(pods, recorded, release);
    }

    /// <summary>
    /// Restores exactly the counts SafeShutdown recorded (backend, worker, then the user projects): from the newest
    /// SafeShutdown record that no Resume answered yet, else from the annotations; fails before any change when
    /// nothing is recorded.
    /// </summary>
    public async Task<IReadOnlyList<ReplicaRecord>> ResumeAsync(CancellationToken cancellationToken)
    {
        var platform = PlatformWorkloads.ShutdownWorkloads.Reverse().ToList();
        var pending = history is null ? null : PendingShutdown(await history.ReadAsync(cancellationToken));
        IReadOnlyList<ReplicaRecord> restored;
        if (pending is not null)
        {
            restored = [.. pending.Workloads
                .Where(r => r.ReplicasBefore is not null)
                .OrderBy(r => platform.FindIndex(w => r.Workload.Matches(w)) is var i and >= 0 ? i : platform.Count)
                .Select(r => new ReplicaRecord(r.Workload, r.ReplicasBefore!.Value))];
            await _replicas.RestoreAsync(restored, ShutdownAnnotation, cancellationToken);
        }
        else
        {
            List<ObjectRef> parked = [.. platform, .. await _replicas.ListScalableAsync(IsProjectNamespace, cancellationToken)];
            restored = await _replicas.RestoreAsync(parked, ShutdownAnnotation, cancellationToken);
            if (restored.Count == 0)
                throw new BuildFailure($"No replica counts are recorded on {string.Join(", ", parked)} in {cluster.DisplayName}: nothing to resume.",
                    "Resume restores what SafeShutdown recorded. If the environment was stopped another way, use Scale --workloads <name> --replicas <n>.");
        }
        await RecordAsync(ReleaseKind.Scale, [.. restored.Select(r => (r.Workload, (int?)0, (int?)r.Replicas))], pending?.Id, "Resume", cancellationToken);
        return restored;
    }

    private static bool IsProjectNamespace(string ns) => ns.StartsWith(PlatformWorkloads.ProjectNamespacePrefix, StringComparison.Ordinal);

    /// <summary>Pure: the newest successful SafeShutdown record that no later record restored.</summary>
    public static ReleaseRecord? PendingShutdown(IReadOnlyList<ReleaseRecord> records)
    {
        var last = records.LastOrDefault(r => r.Kind == ReleaseKind.SafeShutdown && r.Outcome == ReleaseOutcome.Succeeded);
        return last is null || records.Any(r => r.RestoredRelease == last.Id) ? null : last;
    }

    /// <summary>Scale --workloads … --replicas N: validated before any call, then one patch per workload.</summary>
    public async Task<IReadOnlyList<ReplicaRecord>> ScaleAsync(IReadOnlyList<string> names, int? replicas, IEnumerable<ObjectRef> renderedWorkloads, CancellationToken cancellationToken)
    {
        var workloads = ValidateScale(names, replicas, renderedWorkloads);
        var before = new List<ReplicaRecord>();
        foreach (var workload in workloads)
            before.Add(await _replicas.ScaleAsync(workload, replicas!.Value, cancellationToken)
                ?? throw new BuildFailure($"{workload} does not exist in {cluster.DisplayName}.", "Check the workload name (Status lists them) or apply the overlay first."));
        await RecordAsync(ReleaseKind.Scale, [.. before.Select(b => (b.Workload, (int?)b.Replicas, replicas))], null, $"Scale to {replicas}", cancellationToken);
        return before;
    }

    /// <summary>Pure validation of Scale's input (usage errors, exit 2).</summary>
    public static IReadOnlyList<ObjectRef> ValidateScale(IReadOnlyList<string> names, int? replicas, IEnumerable<ObjectRef> renderedWorkloads)
    {
        if (names.Count == 0)
            throw new UsageException("Scale needs --workloads.", "e.g. ./build.sh Scale --environment beta --workloads backend --replicas 4");
        ReplicaControl.ValidateCount(replicas, "--replicas");
        var workloads = PlatformWorkloads.Resolve(names, renderedWorkloads);
        var notScalable = workloads.Where(w => w.Kind == "DaemonSet").ToList();
        if (notScalable.Count > 0)
            throw new UsageException($"{string.Join(", ", notScalable)} cannot be scaled: a DaemonSet runs one pod per node.", "Scale Deployments or StatefulSets.");
        return workloads;
    }

    /// <summary>What the last overlay apply of these operations did (Reload without names), for its release record.</summary>
    public ApplyReport? LastApply { get; private set; }

    /// <summary>
    /// Reload (legacy <c>reload</c>): preflight of every permission the plan needs (naming the least role), then the
    /// overlay apply when planned, the LiteLLM ConfigMap sync when planned, restarts of tesslate workloads (waited
    /// for in parallel), then kube-system workloads one at a time. Workloads the apply already rolled are not
    /// restarted twice.
    /// </summary>
    /// <param name="overlayObjects">The rendered overlay (used only when the plan applies it).</param>
    /// <param name="repositoryRoot">Where <see cref="PlatformWorkloads.LitellmConfigFile"/> is looked up.</param>
    public async Task<RolloutWaitReport> ReloadAsync(ReloadPlan plan, IReadOnlyList<KubeObject> overlayObjects, string repositoryRoot,
        ApplyOptions applyOptions, RolloutWaitOptions waitOptions, CancellationToken cancellationToken)
    {
        var applier = new ManifestApplier(cluster, logger);
        var applyPlan = plan.ApplyManifests
            ? await applier.PlanAsync(overlayObjects, applyOptions with { DefaultNamespace = PlatformWorkloads.Namespace, DryRun = dryRun }, cancellationToken)
            : null;
        await PermissionPreflight.EnsureAsync(cluster, plan.Permissions(applyPlan), plan.PermissionFix, cancellationToken);
        var restarter = new RolloutRestarter(cluster, logger, dryRun);
        if (applyPlan is not null)
        {
            var applied = LastApply = await applier.ApplyAsync(applyPlan, cancellationToken);
            logger.Information("Overlay: {Summary}", applied.Summary);
            restarter.MarkRolled(applied.RolledWorkloads);
        }
        if (plan.SyncLitellmConfig)
            await ConfigMapFiles.SyncAsync(cluster, PlatformWorkloads.Namespace, PlatformWorkloads.LitellmConfigMap, PlatformWorkloads.LitellmConfigKey,
                Path.Combine(repositoryRoot, PlatformWorkloads.LitellmConfigFile), logger, cancellationToken, dryRun);
        foreach (var workload in plan.PlatformRestarts)
            await restarter.RestartAsync(workload, cancellationToken);
        if (dryRun)
            return new RolloutWaitReport([]);
        var waiter = new RolloutWaiter(cluster, logger);
        var report = await waiter.WaitAsync([.. plan.PlatformRestarts.Select(w => new RolloutTarget(w))], waitOptions, cancellationToken);
        report.ThrowIfFailed(waitOptions.AfterOutage);
        var results = report.Results.ToList();
        foreach (var workload in plan.SystemRestarts)
        {
            await restarter.RestartAsync(workload, cancellationToken);
            var one = await waiter.WaitAsync([new RolloutTarget(workload)], waitOptions, cancellationToken);
            results.AddRange(one.Results);
            new RolloutWaitReport(results).ThrowIfFailed(waitOptions.AfterOutage);
        }
        return new RolloutWaitReport(results);
    }

    /// <summary>
    /// Status: the workloads' state (with the commit of each image, from its git- tag or, for digests, from
    /// <paramref name="revisions"/>), the newest successful release in the history, and the deploy lock's state.
    /// </summary>
    public async Task<EnvironmentStatus> StatusAsync(IEnumerable<ObjectRef> workloads, DeployLock? deployLock, CancellationToken cancellationToken, ImageRevisions? revisions = null)
    {
        var states = await WorkloadStatus.ReadAsync(cluster, workloads.Where(w => PodTemplates.RolloutKinds.Contains(PodTemplates.RolloutKind(w.Kind) ?? w.Kind)), cancellationToken);
        if (revisions is not null)
            states = await revisions.AddAsync(states, cancellationToken);
        var records = history is null ? [] : await history.ReadAsync(cancellationToken);
        var current = records.LastOrDefault(r => r.Outcome == ReleaseOutcome.Succeeded && r.Kind is ReleaseKind.Deploy or ReleaseKind.Rollback or ReleaseKind.Reload or ReleaseKind.DeployCompute);
        var lockState = deployLock is null ? null : await deployLock.InspectAsync(null, cancellationToken);
        var shutdown = PendingShutdown(records);
        var release = shutdown is null ? current?.Summary : $"{current?.Summary ?? "(no deploy recorded)"} — stopped by SafeShutdown #{shutdown.Id}; Resume restores it";
        return new EnvironmentStatus(states, release, lockState?.Description);
    }

    private async Task<ReleaseRecord?> RecordAsync(ReleaseKind kind, IReadOnlyList<(ObjectRef Workload, int? Before, int? After)> changes, string? restored, string message, CancellationToken cancellationToken)
    {
        if (history is null || dryRun || changes.Count == 0)
            return null;
        var run = stamp ?? new ReleaseStamp(Guid.NewGuid().ToString("N")[..8], Environment.UserName, Environment.MachineName, null);
        var empty = new Dictionary<string, string>();
        return await history.AppendAsync(new ReleaseRecord("", kind, run.RunId, run.Who, run.Where, DateTimeOffset.UtcNow, run.GitSha, ReleaseOutcome.Succeeded,
            [.. changes.Select(c => new WorkloadRelease(c.Workload, empty, empty, c.Before, c.After))], empty, message, restored), cancellationToken);
    }
}
