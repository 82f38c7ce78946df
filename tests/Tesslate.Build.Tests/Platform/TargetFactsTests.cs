using Tesslate.Build.Engine;
using Tesslate.Build.Platform;
using Xunit;

namespace Tesslate.Build.Tests.Platform;

/// <summary>What the pipeline derives from the facts its targets declare in Build.cs, with parameters bound as on a command line.</summary>
public sealed class TargetFactsTests
{
    private static IReadOnlyList<BuildTarget> Targets(string[] args, params string[] names)
    {
        var build = new Build();
        new ParameterBinder(build, "TESSLATE_").Bind(CommandLine.Parse(args), new Dictionary<string, string>(), Path.GetTempPath(), []);
        var graph = TargetGraph.Create(build);
        return [.. names.Select(n => graph.Find(n) ?? throw new ArgumentException($"no target {n}"))];
    }

    [Theory]
    [InlineData("KustomizeApply")]
    [InlineData("Reload")]
    [InlineData("DeployCompute")]
    [InlineData("Rollback")]
    [InlineData("Status")]
    public void Every_target_that_renders_an_overlay_has_Preflight_check_kubectl(string target) =>
        Assert.Contains("kubectl", TargetFacts.Tools(Targets(["--environment", "beta"], target)));

    [Fact]
    public void A_build_needs_docker_unless_it_reads_a_build_report_and_Terraform_only_where_there_is_a_stack()
    {
        Assert.Contains("docker", TargetFacts.Tools(Targets(["--environment", "beta"], "BuildImages")));
        Assert.DoesNotContain("docker", TargetFacts.Tools(Targets(["--environment", "local", "--build-report", "r.json"], "BuildImages")));
        Assert.Contains("terraform", TargetFacts.Tools(Targets(["--environment", "beta"], "TerraformApply", "TerraformPlan")));
        Assert.DoesNotContain("terraform", TargetFacts.Tools(Targets(["--environment", "local"], "TerraformApply")));
    }

    [Fact]
    public void Reading_targets_use_the_cluster_without_changing_it_and_terraform_targets_not_at_all()
    {
        Assert.Equal(ClusterUse.Reads, TargetFacts.Cluster(Targets([], "Status", "Logs", "Verify")));
        Assert.Equal(ClusterUse.Changes, TargetFacts.Cluster(Targets([], "Status", "Scale")));
        Assert.Equal(ClusterUse.None, TargetFacts.Cluster(Targets([], "TerraformPlan", "TfvarsView", "Doctor")));
        Assert.Equal(ClusterUse.Changes, TargetFacts.Cluster(Targets(["--promote"], "BuildImages")));
    }

    [Fact]
    public void Every_target_that_pushes_or_applies_a_release_waits_for_the_release_plan()
    {
        var guarded = Targets([], "BuildImages", "TerraformApply", "KustomizeApply", "RolloutRestart", "SeedApps", "Deploy");

        Assert.All(guarded, t => Assert.True(TargetFacts.IsGuarded(t), t.Name));
        Assert.False(TargetFacts.IsGuarded(Targets([], "WaitRollout")[0]));
    }
}
