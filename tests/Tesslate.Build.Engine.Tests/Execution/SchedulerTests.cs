using Serilog;
using Xunit;

namespace Tesslate.Build.Engine.Tests;

public sealed class SchedulerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>Targets whose bodies a test controls; every start and finish is recorded in order.</summary>
    private sealed class Recorder
    {
        private readonly Lock _gate = new();
        public List<string> Events { get; } = [];
        public void Record(string text) { lock (_gate) Events.Add(text); }
        public Func<CancellationToken, Task> Body(string name, Func<CancellationToken, Task>? work = null) => async ct =>
        {
            Record($"start {name}");
            if (work is not null) await work(ct);
            Record($"end {name}");
        };
    }

    private static async Task<ExecutionPlan> RunAsync(object build, string[] invoked, SchedulerOptions? options = null, CancellationToken interrupt = default)
    {
        var plan = ExecutionPlanner.Plan(TargetGraph.Create(build), invoked, [], null);
        var scheduler = new Scheduler(plan, options ?? new SchedulerOptions(), new LoggerConfiguration().CreateLogger());
        await scheduler.RunAsync(interrupt).WaitAsync(Deadline);
        return plan;
    }

    private sealed class Diamond(Recorder recorder, TaskCompletionSource leftStarted, TaskCompletionSource rightStarted)
    {
        public Target Top => _ => _.Executes(recorder.Body("Top"));
        // Each side waits until the other has started: only possible if they run side by side.
        public Target Left => _ => _.DependsOn(Top).Executes(recorder.Body("Left", async ct => { leftStarted.TrySetResult(); await rightStarted.Task.WaitAsync(Deadline, ct); }));
        public Target Right => _ => _.DependsOn(Top).Executes(recorder.Body("Right", async ct => { rightStarted.TrySetResult(); await leftStarted.Task.WaitAsync(Deadline, ct); }));
        public Target Bottom => _ => _.DependsOn(Left, Right).Executes(recorder.Body("Bottom"));
    }

    [Fact]
    public async Task Independent_targets_run_side_by_side_and_dependents_wait_for_both()
    {
        var recorder = new Recorder();
        var plan = await RunAsync(new Diamond(recorder, new(), new()), ["Bottom"]);
        Assert.All(plan.Targets, t => Assert.Equal(TargetStatus.Succeeded, t.Status));
        Assert.Equal("start Top", recorder.Events[0]);
        Assert.Equal("end Bottom", recorder.Events[^1]);
        Assert.True(recorder.Events.IndexOf("start Right") < recorder.Events.IndexOf("end Left"));
    }

    private sealed class Pair(Recorder recorder)
    {
        public Target A => _ => _.Executes(recorder.Body("A", ct => Task.Delay(50, ct)));
        public Target B => _ => _.Executes(recorder.Body("B", ct => Task.Delay(10, ct)));
        public Target Both => _ => _.DependsOn(A, B).Executes(recorder.Body("Both"));
    }

    [Fact]
    public async Task No_parallel_runs_one_target_at_a_time_in_plan_order()
    {
        var recorder = new Recorder();
        await RunAsync(new Pair(recorder), ["Both"], new SchedulerOptions { NoParallel = true });
        Assert.Equal(["start A", "end A", "start B", "end B", "start Both", "end Both"], recorder.Events);
    }

    [Fact]
    public async Task Max_parallel_one_never_overlaps_targets()
    {
        var recorder = new Recorder();
        await RunAsync(new Pair(recorder), ["Both"], new SchedulerOptions { MaxParallel = 1 });
        for (var i = 0; i < recorder.Events.Count; i += 2)
            Assert.Equal(recorder.Events[i].Replace("start", "end"), recorder.Events[i + 1]);
    }

    private sealed class Failing(Recorder recorder, TaskCompletionSource slowStarted)
    {
        public Target Slow => _ => _.Executes(recorder.Body("Slow", async ct => { slowStarted.TrySetResult(); await Task.Delay(200, ct); }));
        public Target Broken => _ => _.Executes(async _ => { await slowStarted.Task; throw new BuildFailure("it broke", "fix it"); });
        public Target AfterBroken => _ => _.DependsOn(Broken).Executes(recorder.Body("AfterBroken"));
        public Target Later => _ => _.DependsOn(Slow).Executes(recorder.Body("Later"));
        public Target All => _ => _.DependsOn(Slow, AfterBroken, Later);
    }

    [Fact]
    public async Task After_a_failure_running_targets_finish_and_no_new_target_starts()
    {
        var recorder = new Recorder();
        var plan = await RunAsync(new Failing(recorder, new()), ["All"]);
        Assert.Equal(TargetStatus.Failed, plan["Broken"]!.Status);
        Assert.Equal("it broke", plan["Broken"]!.Note);
        Assert.Equal(TargetStatus.Succeeded, plan["Slow"]!.Status);           // was running: finishes
        Assert.Equal(TargetStatus.NotRun, plan["AfterBroken"]!.Status);
        Assert.Equal(TargetStatus.NotRun, plan["Later"]!.Status);             // would have been new work
        Assert.DoesNotContain("start Later", recorder.Events);
    }

    private sealed class Interruptible(Recorder recorder, TaskCompletionSource started)
    {
        public bool Open { get; set; } = true;
        public Target Apply => _ => _.PartialWorkOnInterrupt("the state may be partially applied")
            .Executes(recorder.Body("Apply", async ct => { started.TrySetResult(); await Task.Delay(Deadline, ct); }));
        public Target Next => _ => _.DependsOn(Apply).Executes(recorder.Body("Next"));
        public Target Independent => _ => _.Executes(recorder.Body("Independent", async ct => { await started.Task; await Task.Delay(Deadline, ct); }));
        public Target Gate => _ => _.OnlyWhenDynamic(() => Open, "gate closed").Executes(recorder.Body("Gate"));
    }

    [Fact]
    public async Task An_interrupt_aborts_every_running_target_and_says_what_may_be_partial()
    {
        var recorder = new Recorder();
        var started = new TaskCompletionSource();
        using var interrupt = new CancellationTokenSource();
        var run = RunAsync(new Interruptible(recorder, started), ["Next", "Independent"], interrupt: interrupt.Token);
        await started.Task.WaitAsync(Deadline);
        await interrupt.CancelAsync();
        var plan = await run;
        Assert.Equal(TargetStatus.Aborted, plan["Apply"]!.Status);
        Assert.Equal("the state may be partially applied", plan["Apply"]!.Note);
        Assert.Equal(TargetStatus.NotRun, plan["Next"]!.Status);
        Assert.Equal(TargetStatus.Aborted, plan["Independent"]!.Status);
        Assert.Equal("interrupted; it may have left partial work", plan["Independent"]!.Note);
    }

    [Fact]
    public async Task A_dynamic_condition_is_evaluated_just_before_the_target_runs()
    {
        var recorder = new Recorder();
        var plan = await RunAsync(new Interruptible(recorder, new()) { Open = false }, ["Gate"]);
        Assert.Equal(TargetStatus.Skipped, plan["Gate"]!.Status);
        Assert.Equal("gate closed", plan["Gate"]!.Note);
    }

    private sealed class Release(Recorder recorder)
    {
        public Target Wait => _ => _.Executes(recorder.Body("Wait", ct => Task.Delay(100, ct)));
        public Target Seed => _ => _.DependsOn(Wait).Executes(recorder.Body("Seed"));
        public Target Promote => _ => _.DependsOn(Seed).Executes(recorder.Body("Promote"));
    }

    [Fact]
    public async Task A_skipped_target_keeps_its_place_in_the_order()
    {
        var recorder = new Recorder();
        var plan = ExecutionPlanner.Plan(TargetGraph.Create(new Release(recorder)), ["Promote", "Wait"], [], ["Seed"]);
        await new Scheduler(plan, new SchedulerOptions(), new LoggerConfiguration().CreateLogger()).RunAsync(CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(TargetStatus.Skipped, plan["Seed"]!.Status);
        Assert.Equal(["start Wait", "end Wait", "start Promote", "end Promote"], recorder.Events);
    }

    private sealed class Prerequisites
    {
        public Target Probe => _ => _.Executes(_ => throw new PrerequisiteMissingException("no docker engine", "start one"));
        public Target Gate => _ => _.Executes(_ => throw new ApprovalRequiredException("approve the plan"));
        public Target After => _ => _.DependsOn(Gate).Executes(() => { });
    }

    [Fact]
    public async Task Under_dry_run_a_missing_prerequisite_is_reported_not_failed()
    {
        var dry = await RunAsync(new Prerequisites(), ["Probe"], new SchedulerOptions { DryRun = true });
        Assert.Equal(TargetStatus.Succeeded, dry["Probe"]!.Status);
        Assert.Equal("not checked in dry-run: no docker engine", dry["Probe"]!.Note);

        var real = await RunAsync(new Prerequisites(), ["Probe"]);
        Assert.Equal(TargetStatus.Failed, real["Probe"]!.Status);
    }

    [Fact]
    public async Task A_target_awaiting_approval_stops_everything_after_it()
    {
        var plan = await RunAsync(new Prerequisites(), ["After"]);
        Assert.Equal(TargetStatus.AwaitingApproval, plan["Gate"]!.Status);
        Assert.Equal(TargetStatus.NotRun, plan["After"]!.Status);
        Assert.Equal("Gate is awaiting approval", plan["After"]!.Note);
    }
}
