using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Xunit;

namespace Tesslate.Build.Tests.Release;

public sealed class ReleaseSafetyJudgementTests
{
    private static readonly EnvironmentSettings Production = EnvironmentTable.Defaults(DeployEnvironment.Production);
    private static readonly EnvironmentSettings Beta = EnvironmentTable.Defaults(DeployEnvironment.Beta);

    /// <summary>What the pipeline's own targets change, judged from their declared facts with these parameters bound.</summary>
    private static RunChanges Changes(bool promote = false, bool reloadApplies = false, bool runsTerraform = true, params string[] scheduled)
    {
        var build = new Build();
        string[] args = [.. promote ? ["--promote"] : Array.Empty<string>(), .. reloadApplies ? Array.Empty<string>() : ["--workloads", "backend"]];
        new ParameterBinder(build, "TESSLATE_").Bind(CommandLine.Parse(args), new Dictionary<string, string>(), Path.GetTempPath(), []);
        var graph = TargetGraph.Create(build);
        return RunChanges.Of([.. scheduled.Select(name => graph.Find(name) ?? throw new ArgumentException($"no target {name}"))], runsTerraform);
    }

    [Fact]
    public void A_build_only_run_changes_nothing_and_needs_no_approval_even_in_production()
    {
        var changes = Changes(scheduled: ["Preflight", "SubmodulesInit", "EcrLogin", "ReleasePlan", "BuildImages"]);

        Assert.Equal(new RunChanges(Terraform: false, Cluster: false), changes);
        Assert.Empty(ReleaseApproval.Reasons(Production, changes, destroyedOrReplaced: 0));
    }

    [Theory]
    [InlineData("TerraformApply")]
    [InlineData("KustomizeApply")]
    [InlineData("RolloutRestart")]
    [InlineData("Deploy")]
    public void Any_run_that_changes_production_needs_its_approval(string target)
    {
        var reasons = ReleaseApproval.Reasons(Production, Changes(scheduled: ["ReleasePlan", target]), destroyedOrReplaced: 0);

        Assert.Equal(["production is production"], reasons);
    }

    [Fact]
    public void A_data_volume_change_let_through_by_allow_volume_change_needs_the_approval_except_on_local()
    {
        var changes = Changes(scheduled: ["ReleasePlan", "KustomizeApply"]);

        Assert.Equal(["1 data volume change(s) allowed by --allow-volume-change"], ReleaseApproval.Reasons(Beta, changes, destroyedOrReplaced: 0, allowedVolumeChanges: 1));
        Assert.Equal(["production is production", "2 data volume change(s) allowed by --allow-volume-change"],
            ReleaseApproval.Reasons(Production, changes, destroyedOrReplaced: 0, allowedVolumeChanges: 2));
        Assert.Empty(ReleaseApproval.Reasons(EnvironmentTable.Defaults(DeployEnvironment.Local), changes, destroyedOrReplaced: 0, allowedVolumeChanges: 1));
    }

    [Fact]
    public void The_release_plan_lists_the_guards_findings_before_anything_else()
    {
        var change = new VolumeChange(new ObjectRef("Deployment", "tesslate", "postgres"), VolumeChangeKind.Swapped, "container postgres at /data", "PVC a", "PVC b");
        var plan = new ReleasePlanSummary("beta")
        {
            Guard = new GuardReport([], [change], [ReleaseProblems.Allowance("Deployment/postgres")], []),
            KubernetesNotCompared = "images not yet known (backend will be built first)",
        };

        var lines = plan.Lines();

        Assert.Equal("Release plan for beta:", lines[0]);
        Assert.Matches(@"^  volume +Deployment/tesslate/postgres container postgres at /data: PVC a → PVC b \(allowed by --allow-volume-change Deployment/postgres\)$", lines[1]);
        Assert.StartsWith("  kubernetes", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void A_plan_that_destroys_or_replaces_needs_an_approval_anywhere_but_beta_changes_need_none_otherwise()
    {
        var changes = Changes(scheduled: ["ReleasePlan", "TerraformApply", "KustomizeApply"]);

        Assert.Empty(ReleaseApproval.Reasons(Beta, changes, destroyedOrReplaced: 0));
        Assert.Equal(["Terraform would destroy or replace 2 resource(s)"], ReleaseApproval.Reasons(Beta, changes, destroyedOrReplaced: 2));
    }

    [Fact]
    public void TerraformApply_changes_nothing_where_the_environment_has_no_stack()
    {
        Assert.False(Changes(runsTerraform: false, scheduled: ["TerraformApply"]).Environment);
    }

    [Theory]
    [InlineData("Scale")]
    [InlineData("SafeShutdown")]
    [InlineData("Resume")]
    [InlineData("DeployCompute")]
    [InlineData("Rollback")]
    [InlineData("SeedApps")]
    public void Cluster_operations_change_the_cluster(string target) =>
        Assert.True(Changes(scheduled: [target]).Cluster);

    [Fact]
    public void Reload_changes_the_cluster_only_when_it_applies_and_BuildImages_only_when_it_promotes()
    {
        Assert.True(Changes(reloadApplies: true, scheduled: ["Reload"]).Cluster);
        Assert.False(Changes(reloadApplies: false, scheduled: ["Reload"]).Cluster);
        Assert.True(Changes(promote: true, scheduled: ["BuildImages"]).Cluster);
        Assert.False(Changes(promote: false, scheduled: ["BuildImages"]).Cluster);
        Assert.False(Changes(scheduled: ["Status", "Logs", "Verify", "TerraformPlan"]).Environment);
    }

    [Theory]
    [InlineData("Status")]
    [InlineData("Logs")]
    [InlineData("Verify")]
    [InlineData("WaitRollout")]
    public void Reading_targets_change_nothing(string target) =>
        Assert.False(Changes(scheduled: [target]).Environment);

    [Theory]
    [InlineData("Migrate")]
    [InlineData("PruneProjectNamespaces")]
    [InlineData("KustomizeApply")]
    public void A_schema_migration_and_a_namespace_prune_change_the_cluster_like_an_apply(string target) =>
        Assert.True(Changes(scheduled: [target]).Cluster);

    [Fact]
    public void The_release_permissions_cover_the_lock_the_history_and_the_seed_exec()
    {
        var all = PermissionPreflight.ForRelease("tesslate", history: true, seeds: true).Select(p => p.ToString()).ToList();

        Assert.Equal(
        [
            "get leases.coordination.k8s.io in namespace tesslate", "create leases.coordination.k8s.io in namespace tesslate", "update leases.coordination.k8s.io in namespace tesslate",
            "get configmaps in namespace tesslate", "create configmaps in namespace tesslate", "update configmaps in namespace tesslate",
            "create pods/exec in namespace tesslate",
        ], all);
        Assert.Equal(3, PermissionPreflight.ForRelease("tesslate", history: false, seeds: false).Count);
    }
}
