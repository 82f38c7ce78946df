using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

public sealed class DeployPlanTests
{
    [Theory]
    [InlineData("SeedApps")]
    [InlineData("WaitRollout")]
    [InlineData("EcrLogin")]
    public async Task Skipping_one_stage_of_Deploy_skips_that_stage_only(string stage)
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["Deploy", "--environment", "beta", "--plan", "--skip", stage]);

        Assert.True(exitCode == 0, output);
        Assert.Equal([$"{stage} — --skip"], SkippedLines(output));
        foreach (var other in new[] { "SubmodulesInit", "EcrLogin", "BuildImages", "TerraformApply", "KustomizeApply", "RolloutRestart", "WaitRollout", "SeedApps" }.Where(t => t != stage))
            Assert.Contains(other, PlannedPart(output));
    }

    [Fact]
    public async Task Skipping_BuildImages_also_skips_what_only_the_build_needs()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["Deploy", "--environment", "beta", "--plan", "--skip", "BuildImages", "TerraformApply"]);

        Assert.True(exitCode == 0, output);
        Assert.Equal(["SubmodulesInit — because BuildImages is skipped", "EcrLogin — because BuildImages is skipped", "BuildImages — --skip", "TerraformApply — --skip"], SkippedLines(output));
        foreach (var kept in new[] { "Preflight", "ReleasePlan", "KustomizeApply", "RolloutRestart", "WaitRollout", "SeedApps" })
            Assert.Contains(kept, PlannedPart(output));
    }

    private static string PlannedPart(string output) => output[..output.IndexOf("Skipped", StringComparison.Ordinal)];

    private static List<string> SkippedLines(string output) =>
        [.. output[output.IndexOf("Skipped", StringComparison.Ordinal)..].Split('\n').Skip(1).Select(l => l.Trim()).TakeWhile(l => !l.StartsWith('*'))];
}
