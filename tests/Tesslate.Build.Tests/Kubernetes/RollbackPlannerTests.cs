using Tesslate.Build.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>What "the previous release" means once restarts, scales and compute releases are recorded too (pure).</summary>
public sealed class RollbackPlannerTests
{
    private static readonly ObjectRef App = new("Deployment", "tesslate", "app");

    private static ReleaseRecord Record(string id, ReleaseKind kind, char before, char after, ReleaseOutcome outcome = ReleaseOutcome.Succeeded) =>
        ReleaseHistoryTests.Draft($"run-{id}", outcome, before: before, after: after) with { Id = id, Kind = kind };

    private static ReleaseRecord Scale(string id) =>
        new(id, ReleaseKind.Scale, $"run-{id}", "alice", "laptop", DateTimeOffset.UtcNow, null, ReleaseOutcome.Succeeded,
            [new WorkloadRelease(App, new Dictionary<string, string>(), new Dictionary<string, string>(), 1, 3)], new Dictionary<string, string>());

    [Fact]
    public void A_restart_or_a_scale_after_a_deploy_is_not_what_Rollback_undoes()
    {
        IReadOnlyList<ReleaseRecord> history =
        [
            Record("1", ReleaseKind.Deploy, 'a', 'b'),
            Record("2", ReleaseKind.Deploy, 'b', 'c'),
            Record("3", ReleaseKind.Reload, 'c', 'c'),
            Scale("4"),
        ];

        var plan = RollbackPlanner.FromHistory(history, new RollbackSource.Previous(), null, "history");

        Assert.Contains("undo release #2 Deploy", plan.Description);
        Assert.Equal(ReleaseTestBed.Image('b'), Assert.Single(plan.Restores).Images["app"]);
        Assert.Equal("1", plan.RestoredRelease);
    }

    [Fact]
    public void After_a_failed_compute_release_Rollback_returns_to_the_last_successful_release_that_names_images()
    {
        IReadOnlyList<ReleaseRecord> history =
        [
            Record("1", ReleaseKind.Deploy, 'a', 'b'),
            Scale("2"),
            Record("3", ReleaseKind.DeployCompute, 'b', 'c', ReleaseOutcome.Failed),
        ];

        var plan = RollbackPlanner.FromHistory(history, new RollbackSource.Previous(), null, "history");

        Assert.Equal("1", plan.RestoredRelease);
        Assert.Equal(ReleaseTestBed.Image('b'), Assert.Single(plan.Restores).Images["app"]);
    }
}
