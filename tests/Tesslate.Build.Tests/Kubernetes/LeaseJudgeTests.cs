using Tesslate.Build.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>
/// The lease judgement on its own, with explicit times: a real deploy holds the lock for many minutes and renews it
/// every 30 s, so staleness must be judged from the last renewal, never from when the lock was taken.
/// </summary>
public sealed class LeaseJudgeTests
{
    private static readonly DateTimeOffset Now = new(2026, 5, 2, 9, 30, 0, TimeSpan.Zero);
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(90);
    private static readonly LockHolder Bob = new("bob", "bob-laptop", "run-b");

    private static LeaseObservation Lease(DateTimeOffset? acquired, DateTimeOffset? renewed, string? identity = "bob@bob-laptop#run-b") =>
        new(identity is null ? null : Bob, identity, acquired, renewed, Duration);

    [Fact]
    public void A_lock_acquired_minutes_ago_and_renewed_seconds_ago_is_held() =>
        Assert.Equal(LockStatus.Held, LeaseJudge.Judge(Lease(Now.AddMinutes(-12), Now.AddSeconds(-5)), "us", Now));

    [Fact]
    public void A_lock_renewed_longer_ago_than_its_duration_has_expired_however_recently_it_was_acquired() =>
        Assert.Equal(LockStatus.Expired, LeaseJudge.Judge(Lease(Now.AddSeconds(-95), Now.AddSeconds(-91)), "us", Now));

    [Fact]
    public void A_lock_renewed_exactly_one_duration_ago_is_still_held_as_the_renewal_is_in_time() =>
        Assert.Equal(LockStatus.Held, LeaseJudge.Judge(Lease(Now.AddMinutes(-30), Now - Duration), "us", Now));

    [Fact]
    public void Without_a_renewal_the_acquire_time_counts()
    {
        Assert.Equal(LockStatus.Held, LeaseJudge.Judge(Lease(Now.AddSeconds(-10), null), "us", Now));
        Assert.Equal(LockStatus.Expired, LeaseJudge.Judge(Lease(Now.AddMinutes(-10), null), "us", Now));
    }

    [Fact]
    public void A_holder_with_no_time_at_all_cannot_prove_it_is_alive() =>
        Assert.Equal(LockStatus.Expired, LeaseJudge.Judge(Lease(null, null), "us", Now));

    [Fact]
    public void Our_own_lease_is_ours_even_when_stale() =>
        Assert.Equal(LockStatus.HeldByUs, LeaseJudge.Judge(Lease(Now.AddHours(-2), Now.AddHours(-1)), "bob@bob-laptop#run-b", Now));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_lease_nobody_holds_is_free(string? identity)
    {
        Assert.Equal(LockStatus.Free, LeaseJudge.Judge(Lease(Now.AddMinutes(-1), Now, identity), "us", Now));
        Assert.Equal(LockStatus.Free, LeaseJudge.Judge(null, "us", Now));
    }

    [Fact]
    public void A_held_lock_is_described_with_its_holder_since_when_and_its_last_renewal()
    {
        var lease = Lease(Now.AddMinutes(-12), Now.AddSeconds(-5));
        Assert.Equal("Lease tesslate/deploy is held by bob from bob-laptop (run run-b) since 2026-05-02 09:18:00 UTC (12m ago), last renewed 2026-05-02 09:29:55 UTC (5.0 s ago)",
            LeaseJudge.Describe(LockStatus.Held, lease, "Lease tesslate/deploy", Now));
    }

    [Fact]
    public void An_expired_lock_is_described_with_its_duration_and_that_it_can_be_taken_over()
    {
        var lease = Lease(Now.AddMinutes(-20), Now.AddMinutes(-3));
        Assert.Equal("Lease tesslate/deploy was held by bob from bob-laptop (run run-b) since 2026-05-02 09:10:00 UTC (20m ago) but not renewed for longer than 1m30s (last renewed 2026-05-02 09:27:00 UTC (3m ago)): it can be taken over",
            LeaseJudge.Describe(LockStatus.Expired, lease, "Lease tesslate/deploy", Now));
    }

    [Fact]
    public void A_holder_without_annotations_is_named_by_its_identity_and_unknown_times_say_so()
    {
        var lease = new LeaseObservation(null, "someone-else", null, null, Duration);
        Assert.Equal("L is held by someone-else since (unknown), last renewed (unknown)", LeaseJudge.Describe(LockStatus.Held, lease, "L", Now));
        Assert.Equal("L is held by (unknown) since (unknown), last renewed (unknown)", LeaseJudge.Describe(LockStatus.Held, null, "L", Now));
        Assert.Contains("not renewed for longer than 0 ms", LeaseJudge.Describe(LockStatus.Expired, null, "L", Now));
    }

    [Fact]
    public void A_clock_behind_the_holders_shows_zero_rather_than_a_negative_age() =>
        Assert.EndsWith("last renewed 2026-05-02 09:30:10 UTC (0 ms ago)", LeaseJudge.Describe(LockStatus.Held, Lease(Now, Now.AddSeconds(10)), "L", Now));

    [Theory]
    [InlineData(LockStatus.Free, "L is free")]
    [InlineData(LockStatus.HeldByUs, "L is held by this run")]
    [InlineData(LockStatus.NoNamespace, "L cannot exist yet: the namespace does not exist (first provisioning)")]
    public void The_other_states_are_described_in_a_sentence(LockStatus status, string expected) =>
        Assert.Equal(expected, LeaseJudge.Describe(status, null, "L", Now));

    [Fact]
    public void An_unknown_state_is_described_by_the_lock_alone() =>
        Assert.Equal("L", LeaseJudge.Describe((LockStatus)42, null, "L", Now));
}
