#if FAKE_KUBE_API
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

/// <summary>
/// Ten simulated rollouts of 2–5 s followed in parallel: the total should be close to the slowest, not the sum.
/// Runs only from bench/rollouts.sh (TESSLATE_BENCH=1); it records numbers and asserts no timing.
/// </summary>
public sealed class RolloutBenchmark
{
    [Fact]
    public async Task Ten_parallel_rollouts_take_about_as_long_as_the_slowest()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("TESSLATE_BENCH") == "1", "benchmark: run bench/rollouts.sh");
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { DefaultRolloutDuration = TimeSpan.FromMilliseconds(100) }, ct);
        using var cluster = new KubeCluster(fake.CreateClient(), "fake");
        var applier = new ManifestApplier(cluster, KubeFixtures.Logger);
        var durations = Enumerable.Range(0, 10).Select(i => TimeSpan.FromSeconds(2 + (i * 3.0 / 9))).ToList();
        KubeObject Workload(int i, string digest) => new(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = $"w{i}", ["namespace"] = "bench" },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 2,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = $"w{i}" } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = $"w{i}" } },
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = $"registry.test/w@sha256:{digest}" }) },
                },
            },
        });
        var ns = new KubeObject(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "bench" } });
        await applier.ApplyAsync(await applier.PlanAsync([ns, .. Enumerable.Range(0, 10).Select(i => Workload(i, new string('a', 64)))], new ApplyOptions(), ct), ct);
        var waiter = new RolloutWaiter(cluster, KubeFixtures.Logger);
        var targets = Enumerable.Range(0, 10).Select(i => new RolloutTarget(new ObjectRef("Deployment", "bench", $"w{i}"))).ToList();
        await waiter.WaitAsync(targets, new RolloutWaitOptions(), ct);

        for (var i = 0; i < 10; i++)
            fake.Simulation.SetRolloutDuration("bench", $"w{i}", durations[i]);
        await applier.ApplyAsync(await applier.PlanAsync(Enumerable.Range(0, 10).Select(i => Workload(i, new string('b', 64))), new ApplyOptions(), ct), ct);
        var clock = Stopwatch.StartNew();
        var report = await waiter.WaitAsync(targets, new RolloutWaitOptions(), ct);
        var total = clock.Elapsed;
        Assert.True(report.AllSucceeded);

        var slowest = report.Results.Max(r => r.Duration);
        var sum = report.Results.Aggregate(TimeSpan.Zero, (a, r) => a + r.Duration);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"workloads=10 simulated=2.0-5.0s slowest={slowest.TotalSeconds:0.00}s total={total.TotalSeconds:0.00}s sum={sum.TotalSeconds:0.00}s overhead={(total / slowest - 1) * 100:0.0}%");
        TestContext.Current.SendDiagnosticMessage(line);
        if (Environment.GetEnvironmentVariable("TESSLATE_BENCH_OUT") is { Length: > 0 } output)
            await File.AppendAllTextAsync(output, line + Environment.NewLine, ct);
    }
}
#endif
