using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Kubernetes.Operations;

namespace Tesslate.Build.Tesslate;

public sealed record ShutdownReport(IReadOnlyList<ObjectRef> DeletedProjectPods, IReadOnlyList<ReplicaRecord> Recorded);

/// <summary>What Status prints: per workload state, plus the release and lock the caller read from the release history.</summary>
public sealed record EnvironmentStatus(IReadOnlyList<WorkloadState> Workloads, string? CurrentRelease, string? LockHolder)
{
    public IReadOnlyList<string> Lines()
    {
        var lines = new List<string>
        {
            $"Release: {CurrentRelease ?? "(none recorded)"}",
            $"Deploy lock: {(LockHolder is null ? "free" : "held by " + LockHolder)}",
        };
        foreach (var w in Workloads)
        {
            lines.Add(w.Exists ? $"{w.Workload.Name,-34} {w.Ready}/{w.Desired} ready, {w.Updated} updated" : $"{w.Workload.Name,-34} not found");
            foreach (var c in w.Containers)
                lines.Add($"    {c.Container}: {c.Image}{(c.RunningDigests.Count == 0 ? "" : " running " + string.Join(", ", c.RunningDigests))}{(c.GitSha is null ? "" : " (git " + c.GitSha + ")")}");
        }
        return lines;
    }
}

/// <summary>
/// Tesslate's operational procedures on a cluster: safe shutdown and resume, the compute sequence, scaling, status.
/// Replica counts of a shutdown are recorded as an annotation on each workload (<see cref="ShutdownAnnotation"/>), so
/// they survive the run and any machine can resume.
/// </summary>
public sealed class PlatformOperations(KubeCluster cluster, ILogger logger, bool dryRun = false)
{
    public const string ShutdownAnnotation = "tesslate.io/replicas-before-shutdown";

    private readonly ReplicaControl _replicas = new(cluster, logger, dryRun);

    /// <summary>
    /// The safe-shutdown procedure: delete every user project pod (proj-* namespaces), then record the worker's and the
    /// backend's replica counts and scale them to zero (worker first, so no job starts on a backend that is leaving).
    /// </summary>
    public async Task<ShutdownReport> SafeShutdownAsync(CancellationToken cancellationToken)
    {
        var pods = await _replicas.DeletePodsAsync(ns => ns.StartsWith(PlatformWorkloads.ProjectNamespacePrefix, StringComparison.Ordinal), cancellationToken);
        var recorded = await _replicas.ParkAsync(PlatformWorkloads.ShutdownWorkloads, ShutdownAnnotation, cancellationToken);
        return new ShutdownReport(pods, recorded);
    }

    /// <summary>Restores exactly the counts SafeShutdown recorded (backend before worker); fails when nothing is recorded.</summary>
    public Task<IReadOnlyList<ReplicaRecord>> ResumeAsync(CancellationToken cancellationToken) =>
        _replicas.RestoreAsync([.. PlatformWorkloads.ShutdownWorkloads.Reverse()], ShutdownAnnotation, cancellationToken);

    /// <summary>Scale --workloads … --replicas N: validated before any call, then one patch per workload.</summary>
    public async Task<IReadOnlyList<ReplicaRecord>> ScaleAsync(IReadOnlyList<string> names, int? replicas, IEnumerable<ObjectRef> renderedWorkloads, CancellationToken cancellationToken)
    {
        var workloads = ValidateScale(names, replicas, renderedWorkloads);
        var before = new List<ReplicaRecord>();
        foreach (var workload in workloads)
            before.Add(await _replicas.ScaleAsync(workload, replicas!.Value, cancellationToken));
        return before;
    }

    /// <summary>Pure validation of Scale's input (usage errors, exit 2).</summary>
    public static IReadOnlyList<ObjectRef> ValidateScale(IReadOnlyList<string> names, int? replicas, IEnumerable<ObjectRef> renderedWorkloads)
    {
        if (names.Count == 0)
            throw new UsageException("Scale needs --workloads.", "e.g. ./build.sh Scale --environment beta --workloads backend --replicas 4");
        ReplicaControl.ValidateCount(replicas);
        var workloads = PlatformWorkloads.Resolve(names, renderedWorkloads);
        var notScalable = workloads.Where(w => w.Kind == "DaemonSet").ToList();
        if (notScalable.Count > 0)
            throw new UsageException($"{string.Join(", ", notScalable)} cannot be scaled: a DaemonSet runs one pod per node.", "Scale Deployments or StatefulSets.");
        return workloads;
    }

    /// <summary>
    /// DeployCompute (legacy deploy-compute): apply the compute overlay, then the CSI node DaemonSet's rollout must
    /// complete before the Volume Hub restarts (a Hub restarted while CSI pods drain hangs their drain RPC for the full
    /// 10-minute grace period), then wait for the Hub.
    /// </summary>
    public async Task<RolloutWaitReport> DeployComputeAsync(IReadOnlyList<KubeObject> computeObjects, ApplyOptions applyOptions, RolloutWaitOptions waitOptions, CancellationToken cancellationToken)
    {
        var applier = new ManifestApplier(cluster, logger);
        var plan = await applier.PlanAsync(computeObjects, applyOptions with { DefaultNamespace = PlatformWorkloads.SystemNamespace, DryRun = dryRun }, cancellationToken);
        var applied = await applier.ApplyAsync(plan, cancellationToken);
        logger.Information("Compute overlay: {Summary}", applied.Summary);
        var restarter = new RolloutRestarter(cluster, logger, dryRun);
        if (dryRun)
        {
            logger.Information("[dry-run] would wait for {Csi}, then restart and wait for {Hub}", PlatformWorkloads.CsiNode, PlatformWorkloads.VolumeHub);
            return new RolloutWaitReport([]);
        }
        return await new SequencedRollout(restarter, new RolloutWaiter(cluster, logger), logger)
            .RunAsync(PlatformWorkloads.CsiNode, PlatformWorkloads.VolumeHub, waitOptions, cancellationToken);
    }

    /// <summary>Status: every rendered workload (or the platform defaults), with the release and lock from the history.</summary>
    public async Task<EnvironmentStatus> StatusAsync(IEnumerable<ObjectRef> workloads, string? currentRelease, string? lockHolder, CancellationToken cancellationToken) =>
        new(await WorkloadStatus.ReadAsync(cluster, workloads.Where(w => PodTemplates.RolloutKinds.Contains(PodTemplates.RolloutKind(w.Kind) ?? w.Kind)), cancellationToken),
            currentRelease, lockHolder);
}
