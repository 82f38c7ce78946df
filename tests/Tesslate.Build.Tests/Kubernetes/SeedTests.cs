using k8s;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>The seed step: exec through the API (WebSocket) in a Ready pod of the backend's current ReplicaSet.</summary>
public sealed class SeedTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Seed = "python -m scripts.seed_apps";

    private static PodCommand Command(string ns, CommandFailurePolicy policy = CommandFailurePolicy.Warn, TimeSpan? timeout = null) =>
        new("SeedApps", ns, "backend", ["python", "-m", "scripts.seed_apps"])
        {
            OnFailure = policy,
            Timeout = timeout ?? TimeSpan.FromMinutes(10),
            TimeoutSetting = "--seed-timeout",
            WarnSetting = "--seed-failure warn",
        };

    private async Task<ReleaseTestBed> BackendAsync(char image = 'a')
    {
        var bed = await ReleaseTestBed.CreateAsync(fixture, "seed");
        await bed.ApplyAsync(bed.Deployment("backend", ("backend", ReleaseTestBed.Image(image))));
        Assert.True((await bed.WaitAsync("backend")).AllSucceeded);
        return bed;
    }

    private async Task<string> PodImageAsync(string ns, string pod) =>
        (await fixture.Client.CoreV1.ReadNamespacedPodAsync(pod, ns, cancellationToken: Ct)).Spec.Containers[0].Image;

    [Fact]
    public async Task The_seed_runs_in_a_pod_of_the_new_ReplicaSet_and_its_output_is_streamed()
    {
        using var bed = await BackendAsync('a');
        await bed.ApplyAsync(bed.Deployment("backend", ("backend", ReleaseTestBed.Image('b'))));
        Assert.True((await bed.WaitAsync("backend")).AllSucceeded);
        fixture.Api.Exec.Handle(c => string.Join(' ', c) == Seed, async (session, ct) =>
        {
            await session.StdoutAsync("seeded hello-node\nseeded crm-demo\n", ct);
            await session.StderrAsync("warning: slow registry\n", ct);
            return 0;
        });
        var log = new LogCapture();

        var result = await new PodCommandRunner(fixture.Api.CreateClient(), log.Logger).RunAsync(Command(bed.Namespace), Ct);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(ReleaseTestBed.Image('b'), await PodImageAsync(bed.Namespace, result.Pod!));
        Assert.Contains(fixture.Api.Exec.Invocations, i => i.Pod == result.Pod && string.Join(' ', i.Command) == Seed);
        Assert.Contains(log.Lines, l => l.Contains("seeded crm-demo", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Contains("warning: slow registry", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_non_zero_exit_is_a_warning_under_warn_and_a_failure_under_fail()
    {
        using var bed = await BackendAsync();
        fixture.Api.Exec.Respond(Seed, 3, "seed crm-demo failed");
        var runner = new PodCommandRunner(fixture.Api.CreateClient(), new LogCapture().Logger);

        var warned = await runner.RunAsync(Command(bed.Namespace), Ct);
        var failed = await Assert.ThrowsAsync<BuildFailure>(() => runner.RunAsync(Command(bed.Namespace, CommandFailurePolicy.Fail), Ct));

        Assert.Equal(PodCommandOutcome.NonZeroExit, warned.Outcome);
        Assert.Equal(3, warned.ExitCode);
        Assert.True(warned.IsWarning);
        Assert.Contains("exited with code 3", failed.Problem);
        Assert.Contains("--seed-failure warn", failed.Fix);
    }

    [Fact]
    public async Task A_seed_that_hangs_times_out_under_both_policies()
    {
        using var bed = await BackendAsync();
        fixture.Api.Exec.Handle(Seed, async (session, ct) =>
        {
            await session.StdoutAsync("seeding...\n", ct);
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        });
        var runner = new PodCommandRunner(fixture.Api.CreateClient(), new LogCapture().Logger);
        var quick = TimeSpan.FromMilliseconds(400);

        var warned = await runner.RunAsync(Command(bed.Namespace, timeout: quick), Ct);
        var failed = await Assert.ThrowsAsync<BuildFailure>(() => runner.RunAsync(Command(bed.Namespace, CommandFailurePolicy.Fail, quick), Ct));

        Assert.Equal(PodCommandOutcome.TimedOut, warned.Outcome);
        Assert.True(warned.IsWarning);
        Assert.Contains("did not finish within", failed.Problem);
    }

    [Fact]
    public async Task A_dropped_exec_connection_is_a_seed_failure_under_both_policies()
    {
        using var bed = await BackendAsync();
        fixture.Api.Exec.Handle(Seed, async (session, ct) =>
        {
            await session.StdoutAsync("seeding...\n", ct);
            throw session.DropTransport();
        });
        var runner = new PodCommandRunner(fixture.Api.CreateClient(), new LogCapture().Logger);

        var warned = await runner.RunAsync(Command(bed.Namespace), Ct);
        var failed = await Assert.ThrowsAsync<BuildFailure>(() => runner.RunAsync(Command(bed.Namespace, CommandFailurePolicy.Fail), Ct));

        Assert.Equal(PodCommandOutcome.TransportError, warned.Outcome);
        Assert.Null(warned.ExitCode);
        Assert.Contains("lost its connection", failed.Problem);
    }

    [Fact]
    public async Task Without_a_ready_pod_the_seed_fails_without_exec()
    {
        var ns = await fixture.NewNamespaceAsync("seed");
        var before = fixture.Api.Exec.Invocations.Count;
        var result = await new PodCommandRunner(fixture.Api.CreateClient(), new LogCapture().Logger).RunAsync(Command(ns), Ct);
        Assert.Equal(PodCommandOutcome.NoReadyPod, result.Outcome);
        Assert.Equal(before, fixture.Api.Exec.Invocations.Count);
    }

    [Fact]
    public void A_failure_offers_only_the_settings_its_caller_named()
    {
        var bare = new PodCommand("Job", "ns", "backend", ["true"]) { OnFailure = CommandFailurePolicy.Fail, Timeout = TimeSpan.FromMinutes(1) };
        var e = Assert.Throws<BuildFailure>(() => PodCommandJudge.Enforce(bare, PodCommandJudge.Judge(bare, PodCommandOutcome.TimedOut, null, "p1", TimeSpan.FromMinutes(1))));
        Assert.EndsWith("or give it longer with the timeout.", e.Fix);

        var worded = bare with { TimeoutSetting = "--seed-timeout", WarnSetting = "--seed-failure warn" };
        e = Assert.Throws<BuildFailure>(() => PodCommandJudge.Enforce(worded, PodCommandJudge.Judge(worded, PodCommandOutcome.TimedOut, null, "p1", TimeSpan.FromMinutes(1))));
        Assert.EndsWith("or give it longer with --seed-timeout. (Use --seed-failure warn to only warn.)", e.Fix);
    }

    [Fact]
    public async Task A_zero_timeout_is_bad_input()
    {
        var e = await Assert.ThrowsAsync<UsageException>(() =>
            new PodCommandRunner(fixture.Api.CreateClient(), new LogCapture().Logger).RunAsync(Command("x", timeout: TimeSpan.Zero), Ct));
        Assert.Contains("--seed-timeout", e.Problem);
    }

    [Fact]
    public void The_seed_runs_only_after_the_backend_was_built_or_reused_and_rolled_out()
    {
        var backend = new ObjectRef("Deployment", "tesslate", "tesslate-backend");
        var ok = new RolloutWaitReport([new RolloutResult(backend, RolloutOutcome.Succeeded, "done", [], TimeSpan.Zero, TimeSpan.FromMinutes(5))]);
        var failed = new RolloutWaitReport([new RolloutResult(backend, RolloutOutcome.Failed, "crash", [], TimeSpan.Zero, TimeSpan.FromMinutes(5))]);

        Assert.Null(PodCommandGate.WhyNot("backend", imageInRun: true, backend, ok));
        Assert.Contains("neither built nor reused", PodCommandGate.WhyNot("backend", imageInRun: false, backend, ok));
        Assert.Contains("did not succeed", PodCommandGate.WhyNot("backend", imageInRun: true, backend, failed));
        Assert.Contains("not followed", PodCommandGate.WhyNot("backend", imageInRun: true, backend, new RolloutWaitReport([])));
    }
}
