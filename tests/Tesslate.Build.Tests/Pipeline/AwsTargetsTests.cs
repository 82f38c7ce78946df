using Tesslate.Build.Tests.Aws;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>The AWS targets of the real pipeline against moto: identity, account guard, secrets in no output.</summary>
[Collection("moto")]
public sealed class AwsTargetsTests(MotoFixture moto, DockerEngineFixture engine) : MotoTests(moto)
{
    private Dictionary<string, string> Aws() => new(Moto.RunEnvironment())
    {
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
        Assert.DoesNotContain(MotoFixture.SecretAccessKey, output);
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

    [Theory]
    [InlineData("BuildImages", "--images", "backend", "--skip", "Preflight")]
    [InlineData("Deploy", "--images", "backend", "--skip", "Preflight", "EcrLogin")]
    [InlineData("TerraformApply", "--approve", "--skip")]
    [InlineData("Deploy", "--approve", "--skip")]
    public async Task Skip_never_removes_the_account_guard_so_a_wrong_account_changes_nothing(params string[] args)
    {
        using var terraform = new FakeTerraform();
        using var app = FixtureApp.Create();
        var root = RepositoryCopy.Create();
        var tfvars = WriteBetaStack(root);
        var environment = Aws();
        environment["TERRAFORM_EXE"] = terraform.ExecutablePath;
        environment["DOCKER_EXE"] = engine.DockerExecutable;
        environment["DOCKER_HOST"] = engine.Host;
        try
        {
            // Tesslate's account is the environment's; moto's credentials live in 123456789012.
            var (exitCode, output) = await PipelineRun.RunAsync([.. args, "--environment", "beta", "--source-root", app.Root, "--tfvars", tfvars], environment, root);

            Assert.True(exitCode == 1, output);
            Assert.Contains("Preflight runs despite --skip", output);
            Assert.True(output.Contains($"belong to account {MotoFixture.DefaultAccount}", StringComparison.Ordinal), output);
            Assert.DoesNotContain("docker login", output);
            Assert.DoesNotContain("▶ BuildImages", output);
            Assert.DoesNotContain("▶ TerraformApply", output);
            Assert.DoesNotContain(terraform.Calls, c => c.Arguments[0] is "init" or "plan" or "apply");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
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

    /// <summary>The beta stack's backend file in <paramref name="root"/>, and a tfvars file for --tfvars (its path).</summary>
    private static string WriteBetaStack(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "terraform", "aws"));
        File.WriteAllText(Path.Combine(root, "terraform", "aws", "backend-beta.hcl"), "bucket = \"state\"\nkey = \"beta/terraform.tfstate\"\nregion = \"us-east-1\"\nuse_lockfile = true\n");
        var tfvars = Path.Combine(root, "beta.tfvars");
        File.WriteAllText(tfvars, "environment = \"beta\"\n");
        return tfvars;
    }

    private static string[] Beta(params string[] targets) => [.. targets, "--environment", "beta", "--aws-account-id", MotoFixture.DefaultAccount];

    [Fact]
    public async Task Doctor_checks_that_the_cluster_role_can_be_assumed_and_names_the_missing_cluster_with_its_fix()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(Beta("Doctor"), Aws());

        Assert.Equal(1, exitCode);
        Assert.Matches($@"✔ cluster role +arn:aws:iam::{MotoFixture.DefaultAccount}:role/tesslate-beta-eks-team-admin \(assumable\)", output);
        Assert.Matches(@"✘ EKS cluster +.*'tesslate-beta-eks' was not found", output);
        Assert.Contains("that tesslate-beta-eks exists (TerraformApply creates it)", output);
        // Without a cluster there is no API server to ask.
        Assert.DoesNotContain("cluster API server", output);
    }

    [Fact]
    public async Task Doctor_says_so_when_the_credentials_already_are_the_cluster_role_and_does_not_assume_it_again()
    {
        var role = $"arn:aws:iam::{MotoFixture.DefaultAccount}:role/tesslate-beta-eks-team-deployer";
        var assumed = System.Text.Json.JsonDocument.Parse(await Moto.AwsCliAsync("sts", "assume-role", "--role-arn", role, "--role-session-name", "ci-run"))
            .RootElement.GetProperty("Credentials");
        var environment = Aws();
        environment["AWS_ACCESS_KEY_ID"] = assumed.GetProperty("AccessKeyId").GetString()!;
        environment["AWS_SECRET_ACCESS_KEY"] = assumed.GetProperty("SecretAccessKey").GetString()!;
        environment["AWS_SESSION_TOKEN"] = assumed.GetProperty("SessionToken").GetString()!;

        var (_, output) = await PipelineRun.RunAsync(Beta("Doctor", "--role", "deployer"), environment);

        Assert.Matches($@"✔ cluster role +{role} \(your credentials already are this role: not assumed again\)", output);
    }

    [Fact]
    public async Task Preflight_of_a_cluster_target_stops_before_the_target_when_the_cluster_is_missing_naming_the_fix()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(Beta("Scale", "--workloads", "backend", "--replicas", "2"), Aws());

        Assert.Equal(1, exitCode);
        Assert.Contains("cluster role: arn:aws:iam::", output);
        Assert.Contains("EKS cluster: EKS cluster 'tesslate-beta-eks' was not found", output);
        Assert.Contains("(TerraformApply creates it)", output);
        Assert.DoesNotContain("▶ Scale", output);
    }

    [Fact]
    public async Task Preflight_under_dry_run_reports_a_missing_cluster_as_a_warning_and_goes_on()
    {
        var (_, output) = await PipelineRun.RunAsync(Beta("Scale", "--workloads", "backend", "--replicas", "2", "--dry-run"), Aws());

        Assert.Contains("[dry-run] EKS cluster: EKS cluster 'tesslate-beta-eks' was not found", output);
        Assert.Contains("▶ Scale", output);
    }

    [Fact]
    public async Task First_provisioning_a_missing_cluster_with_TerraformApply_in_the_run_passes_the_preflight()
    {
        using var terraform = new FakeTerraform();
        var root = Directory.CreateTempSubdirectory("first-provisioning-").FullName;
        Directory.CreateDirectory(Path.Combine(root, ".nuke"));
        var tfvars = WriteBetaStack(root);
        var environment = Aws();
        environment["TERRAFORM_EXE"] = terraform.ExecutablePath;
        try
        {
            var (_, output) = await PipelineRun.RunAsync(Beta("TerraformApply", "Scale", "--workloads", "backend", "--replicas", "2", "--tfvars", tfvars, "--registry", "127.0.0.1:1"), environment, root);

            Assert.Contains("tesslate-beta-eks does not exist yet: its role and API server are checked once Terraform has created it", output);
            Assert.Contains("✔ Preflight", output);
            Assert.NotEmpty(terraform.CallsOf("plan"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Preflight_skips_the_cluster_probes_of_a_target_that_does_not_use_the_cluster()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(Beta("Preflight"), Aws());

        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("EKS cluster", output);
        Assert.DoesNotContain("cluster role", output);
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
        var environment = new Dictionary<string, string>(MotoFixture.RunEnvironment(moto.Url, keys.AccessKey, keys.SecretKey))
        {
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
        File.WriteAllText(AwsTestHome.CredentialsFile, $"[tesslate-beta]\naws_access_key_id = {MotoFixture.AccessKeyId}\naws_secret_access_key = {MotoFixture.SecretAccessKey}\n");
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

/// <summary>The cluster probes of Doctor and Preflight for local: the kube context's API server (the fake).</summary>
public sealed class LocalClusterProbeTests : IAsyncLifetime
{
    private const string Context = "tesslate-fake";
    private readonly string _kube = Directory.CreateTempSubdirectory("probe-kube-").FullName;
    private FakeKubeApi? _fake;

    private async Task<Dictionary<string, string>> ClusterAsync(Func<string, bool> acceptToken)
    {
        _fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { AcceptToken = acceptToken }, TestContext.Current.CancellationToken);
        return new() { ["KUBECONFIG"] = FakeKubeconfig.Write(_kube, _fake.Url, Context) };
    }

    [Fact]
    public async Task Doctor_for_local_reports_the_kube_contexts_api_server_version()
    {
        var (_, output) = await PipelineRun.RunAsync(["Doctor", "--environment", "local", "--kube-context", Context], await ClusterAsync(_ => true));

        Assert.Matches($@"✔ cluster API server +{Context}: Kubernetes v1\.32\.0-fake", output);
    }

    [Fact]
    public async Task Preflight_stops_a_local_cluster_target_whose_api_server_refuses_the_contexts_credentials()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["Status", "--environment", "local", "--kube-context", Context], await ClusterAsync(_ => false));

        Assert.Equal(1, exitCode);
        Assert.Contains("cluster API server: The API server of tesslate-fake", output);
        Assert.Contains("GET /version answered 401", output);
        Assert.Contains($"Refresh the credentials of the kube context (kubectl --context {Context} get namespaces", output);
        Assert.DoesNotContain("▶ Status", output);
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_fake is not null)
            await _fake.DisposeAsync();
        Directory.Delete(_kube, recursive: true);
    }
}
