using System.Text.Json.Nodes;
using Tesslate.Build.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

public sealed class ApplyOutcomeTests
{
    private static JsonObject Deployment(string resourceVersion, int replicas, int readyReplicas) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject { ["name"] = "backend", ["namespace"] = "tesslate", ["resourceVersion"] = resourceVersion },
        ["spec"] = new JsonObject { ["replicas"] = replicas },
        ["status"] = new JsonObject { ["readyReplicas"] = readyReplicas },
    };

    private static ApplyOutcome Judge(JsonObject? before, JsonObject after, bool dryRun = false) =>
        ManifestApplier.Outcome(before, after, ManifestApplier.Differences(before, after), dryRun);

    [Fact]
    public void Nothing_before_is_created() => Assert.Equal(ApplyOutcome.Created, Judge(null, Deployment("1", 2, 0)));

    [Fact]
    public void A_status_update_between_the_read_and_the_apply_is_not_a_change_of_ours() =>
        Assert.Equal(ApplyOutcome.Unchanged, Judge(Deployment("7", 2, 1), Deployment("8", 2, 2)));

    [Fact]
    public void A_spec_change_is_configured() => Assert.Equal(ApplyOutcome.Configured, Judge(Deployment("7", 2, 2), Deployment("8", 3, 2)));

    [Fact]
    public void A_dry_run_judges_by_content_since_the_version_never_moves() =>
        Assert.Equal(ApplyOutcome.Configured, Judge(Deployment("7", 2, 2), Deployment("7", 3, 2), dryRun: true));
}
