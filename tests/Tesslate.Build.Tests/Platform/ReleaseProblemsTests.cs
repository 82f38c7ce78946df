using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Xunit;

namespace Tesslate.Build.Tests.Platform;

/// <summary>The release guard's findings (plain records from the Kubernetes adapter) worded in the pipeline's flags.</summary>
public sealed class ReleaseProblemsTests
{
    private static readonly ObjectRef Postgres = new("Deployment", "tesslate", "postgres");
    private static readonly VolumeChange Swapped = new(Postgres, VolumeChangeKind.Swapped, "container postgres at /data", "PVC a", "PVC b");
    private static readonly ImmutableFieldChange Selector = new(new ObjectRef("Deployment", "tesslate", "redis"), "spec.selector", "a", "b", "field is immutable");

    public static TheoryData<string[], string, string?> Rows => new()
    {
        // allowances given, the volume row, the stop's fix (null: nothing blocks)
        { [], "Deployment/tesslate/postgres container postgres at /data: PVC a → PVC b (stops the release: --allow-volume-change Deployment/postgres if deliberate)",
            "if moving the data is deliberate, allow each change: --allow-volume-change Deployment/postgres (the release plan then lists it under the approval); otherwise make the manifests mount what runs." },
        { ["Deployment/postgres"], "Deployment/tesslate/postgres container postgres at /data: PVC a → PVC b (allowed by --allow-volume-change Deployment/postgres)", null },
        { ["Deployment/tesslate/postgres"], "Deployment/tesslate/postgres container postgres at /data: PVC a → PVC b (allowed by --allow-volume-change Deployment/tesslate/postgres)", null },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_volume_change_is_worded_with_the_flag_that_allows_it(string[] allowances, string row, string? fix)
    {
        var guard = new GuardReport([], [Swapped], [.. allowances.Select(ReleaseProblems.Allowance)], []);

        Assert.Equal([("volume", row)], ReleaseProblems.GuardRows(guard));
        Assert.Equal(fix, ReleaseProblems.GuardFailure(guard)?.Fix);
    }

    [Fact]
    public void A_refused_field_comes_first_with_its_fix_and_the_stop_says_the_pipeline_never_recreates_an_object()
    {
        var guard = new GuardReport([Selector], [Swapped], [], []);

        var rows = ReleaseProblems.GuardRows(guard);
        var failure = ReleaseProblems.GuardFailure(guard)!;

        Assert.Equal(["refused", "  fix", "volume"], rows.Select(r => r.Label));
        Assert.Equal(Selector.Fix, rows[1].Text);
        Assert.StartsWith("Keep the live values of the refused fields in the manifests (each fix above); the pipeline never deletes and recreates an object; if moving the data is deliberate, allow each change: --allow-volume-change Deployment/postgres",
            failure.Fix);
        Assert.Contains("✗ data volume: Deployment/tesslate/postgres", failure.Problem);
    }
}
