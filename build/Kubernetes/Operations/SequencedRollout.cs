using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes.Operations;

/// <summary>
/// A rollout that must complete before a dependent workload restarts (a node DaemonSet before the controller that
/// keeps a registry of its nodes): wait for <c>first</c>; only when it is on its new version, restart <c>then</c>
/// and wait for it. When <c>first</c> fails, <c>then</c> is left alone.
/// </summary>
public sealed class SequencedRollout(RolloutRestarter restarter, RolloutWaiter waiter, ILogger logger)
{
    public async Task<RolloutWaitReport> RunAsync(ObjectRef first, ObjectRef then, RolloutWaitOptions options, CancellationToken cancellationToken)
    {
        var firstReport = await waiter.WaitAsync([new RolloutTarget(first)], options, cancellationToken);
        if (!firstReport.AllSucceeded)
        {
            var result = firstReport.Results[0];
            throw new BuildFailure(
                $"{first} did not complete its rollout ({result.Outcome}: {result.Message}); {then} was not restarted."
                + string.Concat(result.Problems.Select(p => Environment.NewLine + "  " + p)),
                $"Fix {first} first (restarting {then} while it is still rolling would stall it), then run the step again.");
        }
        logger.Information("{First} is on its new version; restarting {Then}", first, then);
        await restarter.RestartAsync(then, cancellationToken);
        var thenReport = await waiter.WaitAsync([new RolloutTarget(then)], options, cancellationToken);
        var report = new RolloutWaitReport([.. firstReport.Results, .. thenReport.Results]);
        report.ThrowIfFailed();
        return report;
    }
}
