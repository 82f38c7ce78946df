using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using k8s;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Tests.Fakes;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

/// <summary>Rollout waits and diagnosis against the fake API server's simulated controllers and injected pod faults.</summary>
public sealed class RolloutTests : IAsyncLifetime
{
    private FakeKubeApi _fake = null!;
    private KubeCluster _cluster = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { DefaultRolloutDuration = TimeSpan.FromMilliseconds(500), NodeCount = 2 }, Ct);
        _cluster = new KubeCluster(_fake.CreateClient(), "fake");
    }

    public async ValueTask DisposeAsync()
    {
        _cluster.Dispose();
        await _fake.DisposeAsync();
    }

    private static readonly RolloutWaitOptions Fast = new() { PodCheckInterval = TimeSpan.FromMilliseconds(200), RetryDelay = TimeSpan.FromMilliseconds(100), MaxAttempts = 3 };

    private static KubeObject Deployment(string name, string image = "registry.test/app@sha256:aa", string kind = "Deployment") => new(new JsonObject
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = kind,
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "tesslate" },
        ["spec"] = new JsonObject
        {
            ["replicas"] = kind == "DaemonSet" ? null : 2,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = image }) },
            },
        },
    });

    private async Task ApplyAsync(params KubeObject[] objects)
    {
        var applier = new ManifestApplier(_cluster, KubeFixtures.Logger);
        var ns = new KubeObject(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "tesslate" } });
        await applier.ApplyAsync(await applier.PlanAsync([ns, .. objects.Select(o => PodTemplates.RolloutKinds.Contains(o.Kind) && o.Kind == "DaemonSet" ? Strip(o) : o)], new ApplyOptions(), Ct), Ct);
    }

    private static KubeObject Strip(KubeObject o)
    {
        var copy = o.Clone();
        copy.Body["spec"]!.AsObject().Remove("replicas");
        return copy;
    }

    private static ObjectRef Ref(string name, string kind = "Deployment") => new(kind, "tesslate", name);

    private Task<RolloutWaitReport> WaitAsync(RolloutWaitOptions options, params ObjectRef[] workloads) =>
        new RolloutWaiter(_cluster, KubeFixtures.Logger).WaitAsync([.. workloads.Select(w => new RolloutTarget(w))], options, Ct);

    [Fact]
    public async Task Parallel_waits_follow_every_workload_to_its_end_and_report_progress()
    {
        _fake.Simulation.SetRolloutDuration("tesslate", "slow", TimeSpan.FromSeconds(2));
        await ApplyAsync(Deployment("fast"), Deployment("slow"), Deployment("csi", kind: "DaemonSet"));
        var progress = new ConcurrentBag<RolloutProgress>();
        var report = await WaitAsync(Fast with { OnProgress = progress.Add }, Ref("fast"), Ref("slow"), Ref("csi", "DaemonSet"));
        Assert.True(report.AllSucceeded, string.Join("; ", report.Results.Select(r => r.Message)));
        Assert.Contains(progress, p => p.Workload.Name == "slow");
        report.ThrowIfFailed();
    }

    [Fact]
    public async Task A_terminal_pod_failure_stops_that_wait_early_with_the_previous_containers_log_while_others_finish()
    {
        await ApplyAsync(Deployment("good"), Deployment("bad"));
        await WaitAsync(Fast, Ref("good"), Ref("bad"));
        _fake.Faults.Inject("tesslate", "bad", PodFault.CrashLoop(1, ["Traceback (most recent call last):", "KeyError: 'DATABASE_URL'"]));
        _fake.Simulation.SetRolloutDuration("tesslate", "good", TimeSpan.FromSeconds(1));
        await ApplyAsync(Deployment("good", "registry.test/app@sha256:bb"), Deployment("bad", "registry.test/app@sha256:bb"));

        var report = await WaitAsync(Fast with { DeadlineOverride = TimeSpan.FromMinutes(2) }, Ref("good"), Ref("bad"));
        var bad = report.Results.Single(r => r.Workload.Name == "bad");
        Assert.Equal(RolloutOutcome.Failed, bad.Outcome);
        Assert.True(bad.Duration < TimeSpan.FromMinutes(1));
        var problem = Assert.Single(bad.Problems.DistinctBy(p => p.Kind));
        Assert.Equal(PodProblemKind.CrashLoop, problem.Kind);
        Assert.Contains(bad.Problems, p => p.LogTail.Contains("KeyError: 'DATABASE_URL'"));
        Assert.True(report.Results.Single(r => r.Workload.Name == "good").OnNewVersion);
        var e = Assert.Throws<global::Tesslate.Build.Engine.BuildFailure>(() => report.ThrowIfFailed());
        Assert.Contains("On the new version: Deployment/tesslate/good", e.Problem);
    }

    public static TheoryData<string, PodProblemKind> TerminalFaults => new()
    {
        { "unauthorized", PodProblemKind.ImagePullUnauthorized },
        { "not-found", PodProblemKind.ImageNotFound },
        { "platform", PodProblemKind.ImagePlatformMismatch },
        { "missing-secret", PodProblemKind.MissingConfig },
        { "missing-key", PodProblemKind.MissingConfig },
        { "oom", PodProblemKind.OutOfMemory },
    };

    [Theory]
    [MemberData(nameof(TerminalFaults))]
    public async Task Each_terminal_failure_class_is_diagnosed_from_the_new_revisions_pods(string fault, PodProblemKind expected)
    {
        _fake.Faults.Inject("tesslate", "app", fault switch
        {
            "unauthorized" => PodFault.ImagePullUnauthorized(),
            "not-found" => PodFault.ImageNotFound(),
            "platform" => PodFault.ImagePlatformMismatch(),
            "missing-secret" => PodFault.MissingSecret("tesslate-app-secrets"),
            "missing-key" => PodFault.MissingSecretKey("tesslate-app-secrets", "DATABASE_URL"),
            _ => PodFault.OutOfMemory(["allocating"]),
        });
        await ApplyAsync(Deployment("app"));
        var report = await WaitAsync(Fast with { DeadlineOverride = TimeSpan.FromMinutes(2), Fixes = PodTroubleshooting.Fix }, Ref("app"));
        var result = Assert.Single(report.Results);
        Assert.Equal(RolloutOutcome.Failed, result.Outcome);
        Assert.Contains(result.Problems, p => p.Kind == expected);
        // The waiter words each problem's fix with the caller's troubleshooting, and the failure carries it.
        Assert.All(result.Problems, p => Assert.Equal(PodTroubleshooting.Fix(p.Cause), p.Fix));
        Assert.Contains("Fix: " + PodTroubleshooting.Fix(result.Problems[0].Cause), Assert.Throws<global::Tesslate.Build.Engine.BuildFailure>(() => report.ThrowIfFailed()).Problem, StringComparison.Ordinal);
        if (fault == "missing-key")
            Assert.Contains(result.Problems, p => p.Fix!.Contains("Add key 'DATABASE_URL'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unschedulable_pods_and_failing_readiness_are_explained_when_the_deadline_passes()
    {
        _fake.Faults.Inject("tesslate", "pending", PodFault.Unschedulable());
        _fake.Faults.Inject("tesslate", "unready", PodFault.ReadinessProbe());
        await ApplyAsync(Deployment("pending"), Deployment("unready"));
        var report = await WaitAsync(Fast with { DeadlineOverride = TimeSpan.FromSeconds(3) }, Ref("pending"), Ref("unready"));
        Assert.All(report.Results, r => Assert.Equal(RolloutOutcome.TimedOut, r.Outcome));
        Assert.Contains(report.Results.Single(r => r.Workload.Name == "pending").Problems, p => p.Kind == PodProblemKind.Unschedulable && p.Message.Contains("nodes", StringComparison.Ordinal));
        Assert.Contains(report.Results.Single(r => r.Workload.Name == "unready").Problems, p => p.Kind == PodProblemKind.ReadinessFailing);
    }

    [Fact]
    public async Task A_cluster_that_stops_answering_mid_watch_fails_clearly_naming_the_rollouts_in_progress()
    {
        _fake.Simulation.SetRolloutDuration("tesslate", "one", TimeSpan.FromMinutes(5));
        _fake.Simulation.SetRolloutDuration("tesslate", "two", TimeSpan.FromMinutes(5));
        await ApplyAsync(Deployment("one"), Deployment("two"));
        var waiting = WaitAsync(Fast, Ref("one"), Ref("two"));
        await _fake.UntilWatchingAsync("deployments", count: 2);
        _fake.BeginOutage(OutageMode.Reset);
        var report = await waiting;
        Assert.All(report.Results, r => Assert.Equal(RolloutOutcome.ClusterUnreachable, r.Outcome));
        var e = Assert.Throws<global::Tesslate.Build.Engine.BuildFailure>(() => report.ThrowIfFailed("see where they are with the caller's status command"));
        Assert.Contains("still in progress: Deployment/tesslate/one, Deployment/tesslate/two", e.Fix);
        Assert.EndsWith("then see where they are with the caller's status command.", e.Fix);
    }

    /// <summary>Short enough that a waiter which never hears of the rollout's end fails the test instead of hanging it.</summary>
    private static readonly RolloutWaitOptions Bounded = Fast with { DeadlineOverride = TimeSpan.FromSeconds(30) };

    private int WatchRequests(string name) =>
        _fake.Requests.Count(r => r.Method == "GET" && r.Path.EndsWith("/deployments", StringComparison.Ordinal) && r.Query.Contains("watch=true", StringComparison.Ordinal)
            && r.Query.Contains(Uri.EscapeDataString("metadata.name=" + name), StringComparison.Ordinal));

    [Fact]
    public async Task A_watch_that_ends_with_410_gone_is_followed_again_from_a_fresh_read_and_the_rollout_completes()
    {
        _fake.Simulation.SetRolloutDuration("tesslate", "one", TimeSpan.FromSeconds(3));
        await ApplyAsync(Deployment("one"));
        var waiting = WaitAsync(Bounded, Ref("one"));
        await _fake.UntilWatchingAsync("deployments");
        var before = _fake.Requests.Count;

        // The server forgot the history the watch was following: an ERROR event with a 410 Expired Status ends it.
        _fake.ExpireWatches();
        var report = await waiting;

        var result = Assert.Single(report.Results);
        Assert.Equal(RolloutOutcome.Succeeded, result.Outcome);
        var after = _fake.Requests.Skip(before).ToList();
        var reread = after.FindIndex(r => r.Method == "GET" && r.Path == "/apis/apps/v1/namespaces/tesslate/deployments/one");
        Assert.True(reread >= 0, "after a 410 the waiter reads the workload again");
        Assert.Contains(after.Skip(reread), r => r.Path.EndsWith("/deployments", StringComparison.Ordinal) && r.Query.Contains("watch=true", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_dropped_watch_is_resumed_from_the_last_version_seen_and_the_rollout_completes()
    {
        _fake.Simulation.SetRolloutDuration("tesslate", "one", TimeSpan.FromSeconds(3));
        await ApplyAsync(Deployment("one"));
        var waiting = WaitAsync(Bounded, Ref("one"));
        await _fake.UntilWatchingAsync("deployments");
        var watchesBefore = WatchRequests("one");

        _fake.DropWatches();
        var report = await waiting;

        Assert.Equal(RolloutOutcome.Succeeded, Assert.Single(report.Results).Outcome);
        Assert.True(WatchRequests("one") > watchesBefore, "the waiter watches again after the connection was cut");
        var resumed = _fake.Requests.Where(r => r.Path.EndsWith("/deployments", StringComparison.Ordinal) && r.Query.Contains("watch=true", StringComparison.Ordinal)).Last();
        Assert.Contains("resourceVersion=", resumed.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pods_being_deleted_are_not_diagnosed_a_rollout_whose_stuck_pods_were_deleted_completes()
    {
        await ApplyAsync(Deployment("app"));
        Assert.True((await WaitAsync(Bounded, Ref("app"))).AllSucceeded);

        // A release whose image cannot be pulled: the new revision's pod stays in ErrImagePull/ImagePullBackOff.
        _fake.Faults.Inject("tesslate", "app", PodFault.ImagePullUnauthorized());
        await ApplyAsync(Deployment("app", "registry.test/app@sha256:bb"));
        var pods = await _cluster.RequireAsync("v1", "Pod", Ct);
        var stuck = await Poll.UntilAsync(
            async () => (await _cluster.ListAsync(pods, "tesslate", "app=app", null, Ct))
                .Where(p => (p["status"]?["containerStatuses"] as JsonArray ?? []).Any(c => (string?)c?["state"]?["waiting"]?["reason"] == "ImagePullBackOff")).ToList(),
            l => l.Count > 0, "a pod that cannot pull its image");

        // The registry is fixed and the stuck pods deleted: they stay Terminating (their containers stop slowly)
        // while their replacements start. What they still show is no verdict on this rollout.
        _fake.Simulation.SetShutdownDuration("tesslate", "app", TimeSpan.FromMinutes(5));
        foreach (var pod in stuck)
            await _cluster.Client.CoreV1.DeleteNamespacedPodAsync((string)pod["metadata"]!["name"]!, "tesslate", cancellationToken: Ct);
        _fake.Faults.Clear("tesslate", "app");
        var report = await WaitAsync(Bounded, Ref("app"));

        Assert.Equal(RolloutOutcome.Succeeded, Assert.Single(report.Results).Outcome);
        var left = await _cluster.ListAsync(pods, "tesslate", "app=app", null, Ct);
        Assert.Contains(left, p => p["metadata"]?["deletionTimestamp"] is not null);
    }

    [Fact]
    public async Task The_compute_sequence_restarts_the_hub_only_after_the_csi_daemonset_completed()
    {
        await ApplyAsync(Deployment("csi-node", kind: "DaemonSet"), Deployment("volume-hub"), Deployment("backend"));
        var waiter = new RolloutWaiter(_cluster, KubeFixtures.Logger);
        await waiter.WaitAsync([new(Ref("csi-node", "DaemonSet")), new(Ref("volume-hub")), new(Ref("backend"))], Fast, Ct);
        _fake.Simulation.SetRolloutDuration("tesslate", "csi-node", TimeSpan.FromSeconds(2));
        await ApplyAsync(Deployment("csi-node", "registry.test/app@sha256:cc", kind: "DaemonSet"));
        var restarter = new RolloutRestarter(_cluster, KubeFixtures.Logger);
        RolloutVerdict? csiWhenHubRestarted = null;

        async Task<RolloutWaitReport> ComputeSequence()
        {
            var csi = await waiter.WaitAsync([new(Ref("csi-node", "DaemonSet"))], Fast, Ct);
            if (!csi.AllSucceeded)
                return csi;
            var ds = await _cluster.GetAsync(await _cluster.RequireAsync("apps/v1", "DaemonSet", Ct), "tesslate", "csi-node", Ct);
            csiWhenHubRestarted = RolloutJudge.Judge(new KubeObject(ds!));
            await restarter.RestartAsync(Ref("volume-hub"), Ct);
            return new RolloutWaitReport([.. csi.Results, .. (await waiter.WaitAsync([new(Ref("volume-hub"))], Fast, Ct)).Results]);
        }

        await restarter.RestartAsync(Ref("backend"), Ct);
        var results = await Task.WhenAll(ComputeSequence(), waiter.WaitAsync([new(Ref("backend"))], Fast, Ct));
        Assert.All(results, r => Assert.True(r.AllSucceeded));
        Assert.Equal(RolloutState.Complete, csiWhenHubRestarted?.State);
        Assert.Equal(3, results.Sum(r => r.Results.Count));
    }
}
