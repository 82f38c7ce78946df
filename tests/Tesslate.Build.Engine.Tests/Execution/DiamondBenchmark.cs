using System.Diagnostics;
using Serilog;
using Xunit;

namespace Tesslate.Build.Engine.Tests;

/// <summary>
/// bench/engine.sh: a diamond of targets that each wait 1 s. Sequential would take the sum (6 s); the scheduler should
/// take the critical path (4 levels → 4 s). Explicit: timing belongs in benchmarks, not in the test run.
/// </summary>
public sealed class DiamondBenchmark
{
    private sealed class Diamond
    {
        private static Func<CancellationToken, Task> Wait => ct => Task.Delay(TimeSpan.FromSeconds(1), ct);
        public Target Top => _ => _.Executes(Wait);
        public Target Left => _ => _.DependsOn(Top).Executes(Wait);
        public Target Middle => _ => _.DependsOn(Top).Executes(Wait);
        public Target Right => _ => _.DependsOn(Top).Executes(Wait);
        public Target Join => _ => _.DependsOn(Left, Middle, Right).Executes(Wait);
        public Target Bottom => _ => _.DependsOn(Join).Executes(Wait);
    }

    [Fact(Explicit = true)]
    public async Task Diamond_of_one_second_targets_takes_the_critical_path()
    {
        var parallel = await MeasureAsync(new SchedulerOptions());
        var sequential = await MeasureAsync(new SchedulerOptions { NoParallel = true });
        var criticalPath = TimeSpan.FromSeconds(4);
        var line = $"diamond (6 targets x 1 s, critical path 4 s): parallel {parallel.TotalSeconds:0.00} s ({parallel / criticalPath:0.000}x critical path), --no-parallel {sequential.TotalSeconds:0.00} s ({sequential / criticalPath:0.000}x); goal: parallel within 1.10x";
        if (Environment.GetEnvironmentVariable("TESSLATE_BENCH_OUTPUT") is { Length: > 0 } output)
            await File.AppendAllTextAsync(output, line + "\n");
        TestContext.Current.SendDiagnosticMessage(line);
        Assert.True(parallel < criticalPath * 1.10, line);
    }

    private static async Task<TimeSpan> MeasureAsync(SchedulerOptions options)
    {
        var plan = ExecutionPlanner.Plan(TargetGraph.Create(new Diamond()), ["Bottom"], [], null);
        var stopwatch = Stopwatch.StartNew();
        await new Scheduler(plan, options, new LoggerConfiguration().CreateLogger()).RunAsync(CancellationToken.None);
        return stopwatch.Elapsed;
    }
}
