using Tesslate.Build.Tests.Aws;
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
    public async Task Scale_with_another_accounts_credentials_stops_at_the_preflight_before_assuming_the_cluster_role()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["Scale", "--environment", "beta", "--workloads", "backend", "--replicas", "2"], Aws());
        Assert.Equal(1, exitCode);
        Assert.Contains($"belong to account {MotoFixture.DefaultAccount}", output);
        Assert.Contains("lives in account 859561299901", output);
        Assert.DoesNotContain("Assuming role", output);
        Assert.DoesNotContain("tesslate-beta-eks-team-admin", output);
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

/// <summary>The pipeline against a moto that enforces IAM: the diagnosis names the role the run really used.</summary>
public sealed class ClusterRoleDiagnosisTests(AuthModeMoto moto) : IClassFixture<AuthModeMoto>
{
    [Fact]
    public async Task A_role_from_AWS_EKS_ROLE_ARN_that_cannot_be_assumed_is_diagnosed_with_that_role_not_the_default()
    {
        const string customRole = "arn:aws:iam::123456789012:role/custom-ops";
        var keys = moto.User.GetCredentials();
        var environment = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = moto.Url.ToString().TrimEnd('/'),
            ["AWS_ACCESS_KEY_ID"] = keys.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = keys.SecretKey,
            ["AWS_REGION"] = MotoFixture.Region,
            ["AWS_CONFIG_FILE"] = "/nonexistent",
            ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent",
            ["AWS_EKS_ROLE_ARN"] = customRole,
        };

        var (exitCode, output) = await PipelineRun.RunAsync(["Status", "--environment", "beta", "--aws-account-id", MotoFixture.DefaultAccount], environment);

        Assert.Equal(1, exitCode);
        Assert.Contains("unset AWS_EKS_ROLE_ARN", output);
        Assert.Contains($"The trust policy of {customRole}", output);
        Assert.DoesNotContain("team-admin", output);
        Assert.DoesNotContain("tesslate-beta-admins", output);
    }
}

/// <summary>
/// Region precedence through the real pipeline: --aws-region, AWS_REGION/AWS_DEFAULT_REGION, the profile's region, then
/// the environment table's. The SDK reads profiles from the process's AWS_CONFIG_FILE, so these tests run alone.
/// </summary>
[Collection("process environment")]
public sealed class AwsRegionPipelineTests(MotoFixture moto) : IClassFixture<MotoFixture>, IDisposable
{
    private Dictionary<string, string> ProfileOnly() => new()
    {
        ["AWS_ENDPOINT_URL"] = moto.Url.ToString().TrimEnd('/'),
        ["AWS_ACCESS_KEY_ID"] = "",
        ["AWS_SECRET_ACCESS_KEY"] = "",
        ["AWS_SESSION_TOKEN"] = "",
        ["AWS_PROFILE"] = "",
        ["AWS_REGION"] = "",
        ["AWS_DEFAULT_REGION"] = "",
    };

    private static void WriteProfile(string? region)
    {
        File.WriteAllText(AwsTestHome.ConfigFile, "[profile tesslate-beta]\n" + (region is null ? "" : $"region = {region}\n"));
        File.WriteAllText(AwsTestHome.CredentialsFile, "[tesslate-beta]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
    }

    private static Task<(int ExitCode, string Output)> WhoamiAsync(Dictionary<string, string> environment, params string[] extra) =>
        PipelineRun.RunAsync(["Whoami", "--environment", "beta", "--aws-account-id", MotoFixture.DefaultAccount, "--aws-profile", "tesslate-beta", .. extra], environment);

    [Fact]
    public async Task The_profiles_region_wins_over_the_environment_tables_and_Whoami_names_its_source()
    {
        WriteProfile("eu-west-3");
        var (exitCode, output) = await WhoamiAsync(ProfileOnly());
        Assert.True(exitCode == 0, output);
        Assert.Contains("Region:   eu-west-3 (profile)", output);
        Assert.Contains($"{MotoFixture.DefaultAccount}.dkr.ecr.eu-west-3.amazonaws.com", output);
    }

    [Fact]
    public async Task AWS_REGION_and_the_flag_win_over_the_profiles_region()
    {
        WriteProfile("eu-west-3");
        var environment = ProfileOnly();
        environment["AWS_REGION"] = "us-west-2";
        var (exitCode, output) = await WhoamiAsync(environment);
        Assert.True(exitCode == 0, output);
        Assert.Contains("Region:   us-west-2 (AWS_REGION)", output);

        (exitCode, output) = await WhoamiAsync(environment, "--aws-region", "ap-south-1");
        Assert.True(exitCode == 0, output);
        Assert.Contains("Region:   ap-south-1 (--aws-region)", output);
    }

    [Fact]
    public async Task Without_any_explicit_region_the_environment_tables_region_is_used_and_named()
    {
        WriteProfile(region: null);
        var (exitCode, output) = await WhoamiAsync(ProfileOnly());
        Assert.True(exitCode == 0, output);
        Assert.Contains("Region:   us-east-1 (the environment table's region for beta)", output);
    }

    public void Dispose()
    {
        File.WriteAllText(AwsTestHome.ConfigFile, "");
        File.WriteAllText(AwsTestHome.CredentialsFile, "");
    }
}
