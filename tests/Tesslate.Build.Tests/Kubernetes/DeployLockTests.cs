using k8s;
using k8s.Models;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Release;

public sealed class DeployLockTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly LockHolder Alice = new("alice", "alice-laptop", "run-a");
    private static readonly LockHolder Ci = new("github-actions[bot]", "https://github.com/o/r/actions/runs/42", "run-ci");

    // The caller's words for breaking the lock and looking at the environment: the adapter names no flag of the pipeline.
    private static DeployLockOptions Options(string ns) => new(ns, "deploy")
    {
        RenewInterval = TimeSpan.FromMilliseconds(100),
        LeaseDuration = TimeSpan.FromSeconds(30),
        BreakLockSetting = BreakLock,
        CheckEnvironment = CheckEnvironment,
    };

    private const string BreakLock = "--take-over";
    private const string CheckEnvironment = "status --env beta";

    /// <summary>Each holder talks through its own client, as two machines would.</summary>
    private DeployLock Lock(string ns, LogCapture? log = null, DeployLockOptions? options = null) =>
        new(fixture.Api.CreateClient(), options ?? Options(ns), (log ?? new LogCapture()).Logger);

    private async Task<V1Lease> LeaseAsync(string ns) =>
        await fixture.Client.CoordinationV1.ReadNamespacedLeaseAsync("deploy", ns, cancellationToken: Ct);

    [Fact]
    public async Task A_second_run_is_refused_naming_the_holder_and_since_when_and_changes_nothing()
    {
        var ns = await fixture.NewNamespaceAsync("lock");
        await using var held = await Lock(ns).AcquireAsync(Alice, breakLock: false, Ct);
        var before = await LeaseAsync(ns);

        var e = await Assert.ThrowsAsync<BuildFailure>(() => Lock(ns).AcquireAsync(Ci, breakLock: false, Ct));

        Assert.Contains("alice from alice-laptop (run run-a)", e.Problem);
        Assert.Contains("since", e.Problem);
        Assert.EndsWith($"If that run is gone, take the lock over with {BreakLock}.", e.Fix);
        var after = await LeaseAsync(ns);
        Assert.Equal(Alice.Identity, after.Spec.HolderIdentity);
        Assert.Equal(before.Spec.AcquireTime, after.Spec.AcquireTime);
    }

    [Fact]
    public async Task Of_two_runs_racing_for_a_free_lock_exactly_one_gets_it()
    {
        var ns = await fixture.NewNamespaceAsync("lock");
        var holders = Enumerable.Range(0, 6).Select(i => new LockHolder($"user{i}", "host", $"run-{i}")).ToList();
        var attempts = holders.Select(async h =>
        {
            try
            {
                return await Lock(ns).AcquireAsync(h, breakLock: false, Ct);
            }
            catch (BuildFailure)
            {
                return null;
            }
        }).ToList();
        var results = await Task.WhenAll(attempts);
        var winners = results.Where(r => r is not null).ToList();
        Assert.Single(winners);
        Assert.Equal(winners[0]!.Holder!.Identity, (await LeaseAsync(ns)).Spec.HolderIdentity);
        await winners[0]!.DisposeAsync();
    }

    [Fact]
    public async Task The_lock_is_released_when_the_run_fails()
    {
        var ns = await fixture.NewNamespaceAsync("lock");
        var run = async () =>
        {
            await using var held = await Lock(ns).AcquireAsync(Alice, breakLock: false, Ct);
            throw new BuildFailure("rollout failed");
        };
        await Assert.ThrowsAsync<BuildFailure>(run);

        Assert.Null((await LeaseAsync(ns)).Spec.HolderIdentity);
        await using var next = await Lock(ns).AcquireAsync(Ci, breakLock: false, Ct);
        Assert.True(next.IsGuarded);
    }

    [Fact]
    public async Task The_lock_registered_with_the_run_cleanup_is_released_after_Ctrl_C()
    {
        var ns = await fixture.NewNamespaceAsync("lock");
        var cleanup = new RunCleanup();
        using var ctrlC = new CancellationTokenSource();
        var log = new LogCapture();
        var run = async () =>
        {
            var held = cleanup.Register("deploy lock", await Lock(ns, log).AcquireAsync(Alice, breakLock: false, ctrlC.Token));
            await ctrlC.CancelAsync();
            await Task.Delay(Timeout.Infinite, ctrlC.Token);
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(run);
        Assert.Equal(Alice.Identity, (await LeaseAsync(ns)).Spec.HolderIdentity);

        await cleanup.RunAsync(log.Logger);

        Assert.Null((await LeaseAsync(ns)).Spec.HolderIdentity);
        Assert.Contains(log.Lines, l => l.Contains("released", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_held_lock_is_renewed_in_the_background()
    {
        var ns = await fixture.NewNamespaceAsync("lock");
        await using var held = await Lock(ns).AcquireAsync(Alice, breakLock: false, Ct);
        var first = (await LeaseAsync(ns)).Spec.RenewTime;
        await Poll.UntilAsync(() => LeaseAsync(ns), l => l.Spec.RenewTime > first, "a renewal");
    }

    [Fact]
    public async Task A_lock_held_for_several_lease_durations_and_renewed_often_still_refuses_a_second_run()
    {
        // A deploy outlives its lease duration many times over; only the renewals keep it.
        var ns = await fixture.NewNamespaceAsync("lock");
        var shortLease = Options(ns) with { LeaseDuration = TimeSpan.FromSeconds(2), RenewInterval = TimeSpan.FromMilliseconds(100) };
        await using var held = await Lock(ns, options: shortLease).AcquireAsync(Alice, breakLock: false, Ct);
        var acquired = (await LeaseAsync(ns)).Spec.AcquireTime!.Value;
        await Poll.UntilAsync(() => LeaseAsync(ns), l => l.Spec.RenewTime > acquired + (3 * shortLease.LeaseDuration), "three lease durations of renewals", TimeSpan.FromSeconds(60));

        var e = await Assert.ThrowsAsync<BuildFailure>(() => Lock(ns, options: shortLease).AcquireAsync(Ci, breakLock: false, Ct));

        Assert.Contains("Another deploy is running", e.Problem);
        var lease = await LeaseAsync(ns);
        Assert.Equal(Alice.Identity, lease.Spec.HolderIdentity);
        Assert.Equal(acquired, lease.Spec.AcquireTime);
        Assert.False(held.IsLost);
    }

    [Fact]
    public async Task A_lease_past_its_duration_is_taken_over_with_a_warning()
    {
        var ns = await fixture.NewNamespaceAsync("lock");
        var stale = DateTime.UtcNow.AddMinutes(-10);
        await fixture.Client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "deploy", Annotations = new Dictionary<string, string> { ["deploy-lock/who"] = "bob", ["deploy-lock/where"] = "bob-laptop", ["deploy-lock/run-id"] = "run-b" } },
            Spec = new V1LeaseSpec { HolderIdentity = "bob@bob-laptop#run-b", AcquireTime = stale, RenewTime = stale, LeaseDurationSeconds = 90, LeaseTransitions = 0 },
        }, ns, cancellationToken: Ct);
        var log = new LogCapture();

        await using var held = await Lock(ns, log).AcquireAsync(Alice, breakLock: false, Ct);

        var lease = await LeaseAsync(ns);
        Assert.Equal(Alice.Identity, lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);
        Assert.Contains(log.Lines, l => l.Contains("bob from bob-laptop", StringComparison.Ordinal) && l.Contains("taking it over", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Break_lock_takes_a_live_lock_and_the_previous_holder_notices_and_does_not_release_it()
    {
        var ns = await fixture.NewNamespaceAsync("lock");
        var aliceLog = new LogCapture();
        var alice = await Lock(ns, aliceLog).AcquireAsync(Alice, breakLock: false, Ct);
        var log = new LogCapture();

        await using var ci = await Lock(ns, log).AcquireAsync(Ci, breakLock: true, Ct);

        Assert.Contains(log.Lines, l => l.Contains(BreakLock, StringComparison.Ordinal) && l.Contains("alice", StringComparison.Ordinal));
        await Poll.UntilAsync(() => Task.FromResult(alice.IsLost), lost => lost, "the first holder noticing");
        var lost = Assert.Throws<BuildFailure>(alice.ThrowIfLost);
        Assert.StartsWith($"Let that run finish, then check the environment ({CheckEnvironment}) and deploy again. It was taken with {BreakLock}, or after", lost.Fix);
        await alice.DisposeAsync();
        Assert.Equal(Ci.Identity, (await LeaseAsync(ns)).Spec.HolderIdentity);
    }

    [Fact]
    public async Task Break_lock_on_a_free_lock_warns_and_takes_it_normally()
    {
        var ns = await fixture.NewNamespaceAsync("lock");
        var log = new LogCapture();
        await using (var held = await Lock(ns, log).AcquireAsync(Alice, breakLock: true, Ct))
        {
            Assert.Contains(log.Lines, l => l.Contains("no lock to break; taking it normally", StringComparison.Ordinal));
            Assert.Equal(Alice.Identity, (await LeaseAsync(ns)).Spec.HolderIdentity);
        }

        // Released: free again, and --break-lock on the free lease warns again and takes it.
        var again = new LogCapture();
        await using var second = await Lock(ns, again).AcquireAsync(Ci, breakLock: true, Ct);
        Assert.Contains(again.Lines, l => l.Contains("no lock to break", StringComparison.Ordinal));
        Assert.Equal(Ci.Identity, (await LeaseAsync(ns)).Spec.HolderIdentity);
    }

    [Fact]
    public async Task Without_the_namespace_the_run_proceeds_unguarded_and_says_Terraform_is_the_only_guard()
    {
        var log = new LogCapture();
        var deployLock = Lock("not-created-yet", log);
        Assert.Equal(LockStatus.NoNamespace, (await deployLock.InspectAsync(Alice, Ct)).Status);

        await using var held = await deployLock.AcquireAsync(Alice, breakLock: false, Ct);

        Assert.False(held.IsGuarded);
        Assert.Contains(log.Lines, l => l.Contains("Terraform's own state lock is the only guard", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Inspect_says_whether_the_lock_is_free_or_who_holds_it_and_changes_nothing()
    {
        var ns = await fixture.NewNamespaceAsync("lock");
        Assert.Equal(LockStatus.Free, (await Lock(ns).InspectAsync(Ci, Ct)).Status);
        await using var held = await Lock(ns, options: Options(ns) with { RenewInterval = TimeSpan.FromMinutes(5) }).AcquireAsync(Alice, breakLock: false, Ct);
        fixture.Api.ClearRequests();

        var state = await Lock(ns).InspectAsync(Ci, Ct);

        Assert.Equal(LockStatus.Held, state.Status);
        Assert.Contains("alice", state.Description);
        Assert.DoesNotContain(fixture.Api.Mutations, m => m.Path.Contains($"/namespaces/{ns}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_role_without_lease_permissions_is_told_which_permissions_it_needs()
    {
        var ns = await fixture.NewNamespaceAsync("lock");
        fixture.Api.Access.Deny("get", "leases", ns, "coordination.k8s.io");
        try
        {
            var e = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => Lock(ns).AcquireAsync(Alice, breakLock: false, Ct));
            Assert.Contains("forbidden", e.Problem);
            Assert.Contains("leases.coordination.k8s.io", e.Fix);
        }
        finally
        {
            fixture.Api.Access.AllowAll();
        }
    }

    [Theory]
    [InlineData(null, LockStatus.Free)]
    [InlineData("", LockStatus.Free)]
    [InlineData("me", LockStatus.HeldByUs)]
    [InlineData("other", LockStatus.Held)]
    public void The_judge_reads_holders(string? identity, LockStatus expected)
    {
        var now = DateTimeOffset.UtcNow;
        var lease = new LeaseObservation(null, identity, now.AddSeconds(-5), now.AddSeconds(-5), TimeSpan.FromSeconds(60));
        Assert.Equal(expected, LeaseJudge.Judge(lease, "me", now));
        Assert.Equal(LockStatus.Expired, LeaseJudge.Judge(lease with { HolderIdentity = "other" }, "me", now.AddSeconds(120)));
    }
}
