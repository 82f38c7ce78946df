using System.Diagnostics;
using Serilog;
using Serilog.Context;

namespace Tesslate.Build.Engine;

public sealed record SchedulerOptions
{
    /// <summary>At most this many targets at once; null means as many as the graph allows.</summary>
    public int? MaxParallel { get; init; }

    /// <summary>Strict plan order, one target at a time.</summary>
    public bool NoParallel { get; init; }

    public bool DryRun { get; init; }
}

public interface ITargetObserver
{
    void Started(PlannedTarget target);

    void Finished(PlannedTarget target);
}

/// <summary>
/// Runs a plan: every target whose predecessors are done starts, side by side, up to the limit. After a failure no
/// new target starts and running targets finish (a half-run apply is worse than a late failure). An interrupt cancels
/// every running target's token (children get one interrupt from the process runner); cleanup belongs to
/// <see cref="RunCleanup"/>, which runs after the targets whatever happened.
/// </summary>
/// <param name="before">Runs right before each target's actions (the build's work derived from the target's facts).</param>
public sealed class Scheduler(ExecutionPlan plan, SchedulerOptions options, ILogger log, ITargetObserver? observer = null, Func<BuildTarget, CancellationToken, Task>? before = null)
{
    private static readonly AsyncLocal<PlannedTarget?> CurrentTarget = new();

    /// <summary>The target whose action is running on this async flow (for notes in the summary).</summary>
    public static PlannedTarget? Current => CurrentTarget.Value;

    public bool Failed { get; private set; }

    public bool Interrupted { get; private set; }

    /// <param name="interrupt">Cancelled on Ctrl-C: running targets are interrupted, nothing new starts.</param>
    public async Task RunAsync(CancellationToken interrupt)
    {
        var running = new Dictionary<Task, PlannedTarget>();
        var limit = options.NoParallel ? 1 : options.MaxParallel ?? int.MaxValue;
        await using var onInterrupt = interrupt.Register(() => Interrupted = true);

        while (true)
        {
            foreach (var ready in ReadyTargets())
            {
                if (running.Count >= limit)
                    break;
                if (options.NoParallel && running.Count > 0)
                    break;
                running.Add(RunTargetAsync(ready, interrupt), ready);
            }

            if (running.Count == 0)
                break;

            var finished = await Task.WhenAny(running.Keys);
            running.Remove(finished);
            await finished;
        }

        foreach (var left in plan.Targets.Where(t => t.Status == TargetStatus.Scheduled))
        {
            left.Status = TargetStatus.NotRun;
            left.Note ??= Interrupted ? "interrupted before it started" : "not started after an earlier failure";
        }
    }

    private IEnumerable<PlannedTarget> ReadyTargets()
    {
        var stopping = Failed || Interrupted;
        foreach (var candidate in plan.Targets.Where(t => t.Status == TargetStatus.Scheduled))
        {
            var predecessors = plan.ThroughSkipped(candidate.Target, TargetGraph.Predecessors).ToList();
            if (predecessors.Any(p => p.Status is TargetStatus.Scheduled or TargetStatus.Running))
            {
                if (options.NoParallel)
                    yield break;
                continue;
            }

            var blockedBy = plan.ThroughSkipped(candidate.Target, t => t.Dependencies)
                .FirstOrDefault(d => d.Status is TargetStatus.NotRun or TargetStatus.Aborted or TargetStatus.AwaitingApproval or TargetStatus.Failed);
            if (blockedBy is not null)
            {
                candidate.Status = TargetStatus.NotRun;
                candidate.Note = $"{blockedBy.Name} {Describe(blockedBy.Status)}";
                continue;
            }
            if (stopping)
            {
                candidate.Status = TargetStatus.NotRun;
                candidate.Note = Interrupted ? "interrupted before it started" : "not started after an earlier failure";
                continue;
            }
            yield return candidate;
            if (options.NoParallel)
                yield break;
        }
    }

    private static string Describe(TargetStatus status) => status switch
    {
        TargetStatus.Failed => "failed",
        TargetStatus.AwaitingApproval => "is awaiting approval",
        TargetStatus.Aborted => "was interrupted",
        _ => "did not run",
    };

    private async Task RunTargetAsync(PlannedTarget target, CancellationToken interrupt)
    {
        var definition = target.Target.Definition;
        var dynamicSkip = definition.DynamicConditions.FirstOrDefault(c => !c.Evaluate());
        if (dynamicSkip is not null)
        {
            target.Status = TargetStatus.Skipped;
            target.Note = dynamicSkip.Reason;
            observer?.Finished(target);
            return;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(interrupt);

        target.Status = TargetStatus.Running;
        observer?.Started(target);
        var stopwatch = Stopwatch.StartNew();
        CurrentTarget.Value = target;
        using (LogContext.PushProperty("Target", target.Name))
        {
            // Yield first so targets started in the same pass really start side by side.
            await Task.Yield();
            try
            {
                if (before is not null && definition.Actions.Count > 0)
                    await before(target.Target, linked.Token);
                foreach (var action in definition.Actions)
                    await action(linked.Token);
                target.Status = TargetStatus.Succeeded;
            }
            catch (PrerequisiteMissingException missing) when (options.DryRun)
            {
                target.Status = TargetStatus.Succeeded;
                target.Note = $"not checked in dry-run: {missing.Problem}";
                log.Warning("Not checked in dry-run: {Problem}", missing.Problem);
            }
            catch (ApprovalRequiredException waiting)
            {
                target.Status = TargetStatus.AwaitingApproval;
                target.Note = waiting.Problem;
                Failed = true;
            }
            catch (OperationCanceledException) when (linked.IsCancellationRequested)
            {
                target.Status = TargetStatus.Aborted;
                target.Note = definition.PartialWork ?? "interrupted; it may have left partial work";
            }
            catch (Exception exception)
            {
                target.Status = TargetStatus.Failed;
                target.Failure = exception;
                target.Note = exception is BuildFailure failureInfo ? failureInfo.Problem.Split('\n')[0] : $"{exception.GetType().Name}: {Secrets.Redact(exception.Message)}";
                Failed = true;
                LogFailure(exception);
            }
            finally
            {
                target.Duration = stopwatch.Elapsed;
                CurrentTarget.Value = null;
            }
        }
        observer?.Finished(target);
    }

    private void LogFailure(Exception exception)
    {
        if (exception is BuildFailure failure)
        {
            // One event, so that GitHub Actions shows one annotation per failure.
            log.Error("{Problem}{Fix}", failure.Problem, failure.Fix is null ? "" : $"{System.Environment.NewLine}Fix: {failure.Fix}");
            if (failure.InnerException is not null)
                log.Debug("{Detail}", Secrets.Redact(failure.InnerException.ToString()));
        }
        else
        {
            log.Error("{Type}: {Message}", exception.GetType().Name, Secrets.Redact(exception.Message));
            log.Debug("{Detail}", Secrets.Redact(exception.ToString()));
        }
    }
}
