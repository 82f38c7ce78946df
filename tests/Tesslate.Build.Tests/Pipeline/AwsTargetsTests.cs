using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>The AWS targets of the real pipeline against moto: identity, account guard, secrets in no output.</summary>
[Collection("moto")]
public sealed class AwsTargetsTests(MotoFixture moto) : MotoTests(moto)
{
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    private Dictionary<string, string> Aws() => new()
    {
        ["AWS_ENDPOINT_URL"] = Moto.Url.ToString().TrimEnd('/'),
        ["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE",
        ["AWS_SECRET_ACCESS_KEY"] = SecretKey,
        ["AWS_REGION"] = MotoFixture.Region,
        ["AWS_EC2_METADATA_DISABLED"] = "true",
        ["AWS_CONFIG_FILE"] = "/nonexistent",
        ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent",
    };

    [Fact]
    public async Task Whoami_prints_the_identity_account_region_and_the_cluster_role()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["Whoami", "--environment", "beta", "--aws-account-id", MotoFixture.DefaultAccount], Aws());
        Assert.True(exitCode == 0, output);
        Assert.Contains($"Account:  {MotoFixture.DefaultAccount} (the environment's)", output);
        Assert.Contains($"arn:aws:iam::{MotoFixture.DefaultAccount}:role/tesslate-beta-eks-team-admin", output);
        Assert.DoesNotContain(SecretKey, output);
    }

    [Fact]
    public async Task A_wrong_account_stops_the_run_before_any_side_effect_naming_both_accounts()
    {
        // Tesslate's account is the default; moto's credentials live in 123456789012.
        var (exitCode, output) = await PipelineRun.RunAsync(["EcrLogin", "--environment", "beta"], Aws());
        Assert.Equal(1, exitCode);
        Assert.Contains($"belong to account {MotoFixture.DefaultAccount}", output);
        Assert.Contains("account 859561299901", output);
        Assert.Contains("EcrLogin", output);
        Assert.DoesNotContain("docker login", output);
    }

    [Fact]
    public async Task No_credentials_at_all_is_a_missing_prerequisite_with_the_login_fix()
    {
        var environment = Aws();
        environment.Remove("AWS_ACCESS_KEY_ID");
        environment.Remove("AWS_SECRET_ACCESS_KEY");
        var (exitCode, output) = await PipelineRun.RunAsync(["Whoami", "--environment", "beta"], environment);
        Assert.Equal(1, exitCode);
        Assert.Contains("No AWS credentials found", output);
        Assert.Contains("aws sso login", output);
    }
}
