using Tesslate.Build.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Terraform;

public sealed class TerraformFailuresTests
{
    private static readonly TerraformSettings Settings = new("/repo/terraform/aws") { RecheckCommand = "./build.sh TerraformPlan --environment production" };

    [Fact]
    public void A_lock_error_without_colours_is_recognised_and_names_the_holder()
    {
        string[] output =
        [
            "Error: Error acquiring the state lock",
            "",
            "Error message: operation error S3: PutObject, StatusCode: 412",
            "Lock Info:",
            "  ID:        0d4c9f1e-aaaa-bbbb-cccc-123456789abc",
            "  Who:       runner@github",
            "",
            "Terraform acquires a state lock to protect the state",
        ];

        var failure = TerraformFailures.Explain(output, Settings);

        Assert.NotNull(failure);
        Assert.Contains("Who:       runner@github", failure.Problem);
        Assert.Contains("at once (no lock timeout was set)", failure.Problem);
        Assert.Contains("cd /repo/terraform/aws && terraform force-unlock 0d4c9f1e-aaaa-bbbb-cccc-123456789abc", failure.Fix);
    }

    [Fact]
    public void A_stale_plan_error_in_a_coloured_box_is_recognised()
    {
        string[] output = ["\u001b[31m╷\u001b[0m", "\u001b[31m│\u001b[0m \u001b[1m\u001b[31mError: \u001b[0mSaved plan is stale", "│", "╵"];

        var failure = TerraformFailures.Explain(output, Settings);

        Assert.NotNull(failure);
        Assert.Contains("./build.sh TerraformPlan --environment production", failure.Fix);
    }

    [Fact]
    public void Other_errors_are_left_as_they_are()
    {
        Assert.Null(TerraformFailures.Explain(["Error: Invalid value for variable"], Settings));
    }
}
