using Serilog;
using Tesslate.Build.Kubernetes;

namespace Tesslate.Build.Platform;

/// <summary>The compute layer's release: what each step applied and how its rollouts ended.</summary>
public sealed record ComputeReleaseReport(ApplyReport First, RolloutWaitReport FirstRollouts, ApplyReport? Second, RolloutWaitReport? SecondRollouts)
{
    public RolloutWaitReport Rollouts => new([.. FirstRollouts.Results, .. SecondRollouts?.Results ?? []]);

    public IReadOnlyList<AppliedObject> Applied => [.. First.Objects, .. Second?.Objects ?? []];
}

/// <summary>
/// The compute layer (btrfs CSI node DaemonSet, Volume Hub, image pre-cache in kube-system) released in two steps,
/// because a Volume Hub restarted while CSI pods drain hangs their drain for the 10-minute grace period: first every
/// object but the Volume Hub, which keeps what it runs, and the rollouts that starts (the CSI DaemonSet node by node to
/// completion, its deadline from the node count with the legacy 1800 s as the floor; the pre-cache DaemonSet with its
/// own); then, only when those completed, the Volume Hub with its new digest, waited for. An unchanged Hub template is
/// not restarted.
/// </summary>
public sealed class ComputeRelease(KubeCluster cluster, ILogger logger)
{
    /// <summary>The legacy <c>rollout status daemonset/tesslate-btrfs-csi-node --timeout=1800s</c>, kept as the least deadline.</summary>
    public static readonly TimeSpan CsiFloor = TimeSpan.FromSeconds(1800);

    /// <summary>Step 1: the compute overlay without the Volume Hub.</summary>
    public static ApplyPlan FirstStep(ApplyPlan plan) => plan with { Objects = [.. plan.Objects.Where(o => !IsVolumeHub(o.Object.Ref))] };

    /// <summary>Step 2: the Volume Hub alone (what step 1 skipped as owned elsewhere is reported there, not again).</summary>
    public static ApplyPlan SecondStep(ApplyPlan plan) => plan with { Objects = [.. plan.Objects.Where(o => IsVolumeHub(o.Object.Ref))], Skipped = [] };

    private static bool IsVolumeHub(ObjectRef obj) => obj.Matches(PlatformWorkloads.VolumeHub);

    /// <summary>What to wait for after step 1: the workloads it rolled, the CSI node DaemonSet with its floor.</summary>
    public static IReadOnlyList<RolloutTarget> FirstStepTargets(ApplyReport applied) =>
        [.. applied.RolledWorkloads.Select(w => w.Matches(PlatformWorkloads.CsiNode) ? new RolloutTarget(w) { Floor = CsiFloor } : new RolloutTarget(w))];

    /// <summary>Why the Volume Hub must wait (null: step 2 may go): a step-1 rollout that did not complete.</summary>
    public static string? HubHeldBecause(RolloutWaitReport firstRollouts) =>
        firstRollouts.AllSucceeded ? null
            : $"{string.Join(", ", firstRollouts.NotSucceeded.Select(r => r.Workload.ToString()))} did not complete its rollout: {PlatformWorkloads.VolumeHub} keeps what it runs";

    /// <summary>DeployCompute: both steps with their waits. The Hub is not touched when a step-1 rollout failed.</summary>
    public async Task<ComputeReleaseReport> RunAsync(ApplyPlan plan, RolloutWaitOptions waitOptions, CancellationToken cancellationToken)
    {
        var applier = new ManifestApplier(cluster, logger);
        var waiter = new RolloutWaiter(cluster, logger);
        var first = await applier.ApplyAsync(FirstStep(plan), cancellationToken);
        logger.Information("Compute overlay, step 1 (all but {Hub}): {Summary}", PlatformWorkloads.VolumeHub, first.Summary);
        var firstRollouts = await waiter.WaitAsync(FirstStepTargets(first), waitOptions, cancellationToken);
        if (HubHeldBecause(firstRollouts) is { } reason)
        {
            logger.Warning("{Reason}", reason);
            return new ComputeReleaseReport(first, firstRollouts, null, null);
        }
        var second = await applier.ApplyAsync(SecondStep(plan), cancellationToken);
        logger.Information("Compute overlay, step 2 ({Hub}): {Summary}", PlatformWorkloads.VolumeHub, second.Summary);
        var secondRollouts = await waiter.WaitAsync([.. second.RolledWorkloads.Select(w => new RolloutTarget(w))], waitOptions, cancellationToken);
        return new ComputeReleaseReport(first, firstRollouts, second, secondRollouts);
    }
}
