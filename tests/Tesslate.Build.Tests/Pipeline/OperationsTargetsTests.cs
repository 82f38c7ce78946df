using System.Text.Json.Nodes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Tesslate.Build.Tests.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Operations;

/// <summary>Usage rules of the operations targets, through the real pipeline: refused before anything runs.</summary>
public sealed class OperationsTargetsTests
{
    [Theory]
    [InlineData("SubmodulesInit")]
    [InlineData("EcrLogin")]
    [InlineData("BuildImages")]
    [InlineData("KustomizeApply")]
    [InlineData("RolloutRestart")]
    [InlineData("WaitRollout")]
    [InlineData("SeedApps")]
    [InlineData("Deploy")]
    [InlineData("Rollback")]
    [InlineData("Reload")]
    [InlineData("DeployCompute")]
    [InlineData("SafeShutdown")]
    [InlineData("Resume")]
    [InlineData("Status")]
    [InlineData("Verify")]
    [InlineData("Migrate")]
    [InlineData("Scale")]
    [InlineData("Logs")]
    [InlineData("PruneProjectNamespaces")]
    public async Task Image_and_cluster_targets_refuse_shared_with_the_reason_and_what_to_use_instead(string target)
    {
        var (exitCode, output) = await PipelineRun.RunAsync([target, "--environment", "shared", "--skip", "--workloads", "backend", "--replicas", "1"]);

        Assert.True(exitCode == 2, output);
        Assert.Contains($"Target '{target}': shared is the platform stack", output);
        Assert.Contains("fix: Use --environment beta or production", output);
        Assert.DoesNotContain("Pass the missing values", output);
    }

    [Fact]
    public async Task Terraform_targets_accept_shared()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["TerraformPlan", "--environment", "shared", "--plan"]);
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task The_deploy_k8s_equivalent_keeps_the_release_plan_and_the_rollouts()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["Deploy", "--environment", "beta", "--skip", "BuildImages", "TerraformApply", "--plan"]);

        Assert.True(exitCode == 0, output);
        var scheduled = output.Split("Skipped")[0];
        foreach (var target in new[] { "Preflight", "ReleasePlan", "KustomizeApply", "RolloutRestart", "WaitRollout", "SeedApps", "Deploy" })
            Assert.Contains(target, scheduled);
        Assert.DoesNotContain("BuildImages", scheduled);
        Assert.DoesNotContain("TerraformApply", scheduled);
    }

    [Theory]
    [InlineData("rm", "needs the address(es) to remove")]
    [InlineData("show", "needs one address")]
    [InlineData("mv a b", "is not one of: list | show ADDRESS | rm ADDRESS")]
    public async Task Malformed_state_args_are_a_usage_error_before_any_target_runs(string stateArgs, string problem)
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["TerraformState", "--environment", "beta", "--state-args", .. stateArgs.Split(' ')]);
        Assert.True(exitCode == 2, output);
        Assert.Contains(problem, output);
    }
}

/// <summary>
/// Production operations through EKS: moto's identity and cluster, its DescribeCluster pointed at the fake API server, so
/// Preflight runs for real before the approval.
/// </summary>
[Collection("moto")]
public sealed class ProductionOperationsTests(MotoFixture moto) : MotoTests(moto)
{
    [Fact]
    public async Task SafeShutdown_in_production_waits_for_approval_after_the_preflight_and_before_touching_the_cluster()
    {
        await using var fake = await FakeKubeApi.StartAsync(ct: TestContext.Current.CancellationToken);
        await MotoEks.CreateClusterAsync(Moto, "tesslate-production-eks");
        await using var eks = await MotoEks.PointClustersAtAsync(Moto.Url, fake.Url);

        var (exitCode, output) = await PipelineRun.RunAsync(["SafeShutdown", "--environment", "production", "--aws-account-id", MotoFixture.DefaultAccount],
            Moto.RunEnvironment(eks.Url));

        Assert.True(exitCode == 1, output);
        Assert.Contains("✔ Preflight", output);
        Assert.Contains("Approval needed: Shut production down", output);
        Assert.Contains("awaiting approval", output);
        Assert.Empty(fake.Mutations);
    }
}

/// <summary>TerraformInit, TerraformState and the tfvars targets through the real pipeline, with FakeTerraform and moto.</summary>
[Collection("moto")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TerraformOperationsTargetsTests(MotoFixture moto) : MotoTests(moto)
{
    private const string SecretId = "tesslate/terraform/beta";
    private const string Password = "pg-Targ3t-Secret-41";

    private readonly FakeTerraform _terraform = new();
    private readonly string _root = Directory.CreateTempSubdirectory("ops-root").FullName;

    private string Stack => Path.Combine(_root, "terraform", "aws");

    private Dictionary<string, string> Environment() => new(Moto.RunEnvironment()) { ["TERRAFORM_EXE"] = _terraform.ExecutablePath };

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) =>
        PipelineRun.RunAsync([.. args, "--environment", "beta", "--aws-account-id", MotoFixture.DefaultAccount, "--registry", "127.0.0.1:1"], Environment(), _root);

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Directory.CreateDirectory(Path.Combine(_root, ".nuke"));
        Directory.CreateDirectory(Stack);
        File.WriteAllText(Path.Combine(Stack, "backend-beta.hcl"),
            "bucket = \"tesslate-terraform-state\"\nkey = \"beta/terraform.tfstate\"\nregion = \"us-east-1\"\nencrypt = true\nuse_lockfile = true\n");
    }

    public override ValueTask DisposeAsync()
    {
        _terraform.Dispose();
        Directory.Delete(_root, recursive: true);
        return base.DisposeAsync();
    }

    [Fact]
    public async Task TerraformInit_reconfigures_with_the_environment_backend_file()
    {
        var (exitCode, output) = await RunAsync("TerraformInit");
        Assert.True(exitCode == 0, output);
        var init = Assert.Single(_terraform.CallsOf("init"));
        Assert.Equal(Stack, init.WorkingDirectory);
        Assert.Contains("-reconfigure", init.Arguments);
        Assert.Contains($"-backend-config={Path.Combine(Stack, "backend-beta.hcl")}", init.Arguments);
    }

    [Fact]
    public async Task TerraformState_lists_and_shows_addresses()
    {
        File.WriteAllText(Path.Combine(_terraform.Directory, "state-list.txt"), "module.eks.aws_eks_cluster.this[0]\naws_s3_bucket.assets\n");

        var (exitCode, output) = await RunAsync("TerraformState", "--state-args", "list");
        Assert.True(exitCode == 0, output);
        Assert.Contains("module.eks.aws_eks_cluster.this[0]", output);
        Assert.Contains("aws_s3_bucket.assets", output);

        (exitCode, output) = await RunAsync("TerraformState", "--state-args", "show", "aws_s3_bucket.assets");
        Assert.True(exitCode == 0, output);
        Assert.Contains("# aws_s3_bucket.assets:", output);
    }

    [Fact]
    public async Task TerraformState_rm_removes_the_address_only_after_approval()
    {
        var (exitCode, output) = await RunAsync("TerraformState", "--state-args", "rm", "module.eks.helm_release.cert_manager");
        Assert.True(exitCode == 1, output);
        Assert.Contains("Approval needed: Remove module.eks.helm_release.cert_manager from the beta state", output);
        Assert.DoesNotContain(_terraform.CallsOf("state"), c => c.Arguments[1] == "rm");

        (exitCode, output) = await RunAsync("TerraformState", "--state-args", "rm", "module.eks.helm_release.cert_manager", "--approve");
        Assert.True(exitCode == 0, output);
        var rm = Assert.Single(_terraform.CallsOf("state"), c => c.Arguments[1] == "rm");
        Assert.Equal("module.eks.helm_release.cert_manager", rm.Arguments[^1]);
    }

    [Fact]
    public async Task TfvarsDownload_writes_the_stack_file_with_mode_0600_without_printing_values()
    {
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", SecretId, "--secret-string", $"environment = \"beta\"\npostgres_password = \"{Password}\"\n");

        var (exitCode, output) = await RunAsync("TfvarsDownload");

        Assert.True(exitCode == 0, output);
        var file = Path.Combine(Stack, "terraform.beta.tfvars");
        Assert.Contains(Password, File.ReadAllText(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.DoesNotContain(Password, output);
    }

    [Fact]
    public async Task TfvarsUpload_uploads_the_file_named_by_tfvars_and_leaves_it_in_place()
    {
        var given = Path.Combine(_root, "edited.tfvars");
        var text = $"environment = \"beta\"\npostgres_password = \"{Password}\"\n";
        File.WriteAllText(given, text);

        var (exitCode, output) = await RunAsync("TfvarsUpload", "--tfvars", given, "--approve");

        Assert.True(exitCode == 0, output);
        Assert.Equal(text, await Session().SecretsManager.GetSecretStringAsync(SecretId, TestContext.Current.CancellationToken));
        Assert.Equal(text, File.ReadAllText(given));
        Assert.False(File.Exists(Path.Combine(Stack, "terraform.beta.tfvars")), "the stack's own file was neither read nor written");
        Assert.DoesNotContain(Password, output);
    }
}

/// <summary>PruneProjectNamespaces through the real pipeline against the fake API server (environment local).</summary>
public sealed class ClusterOperationsTargetsTests : IAsyncLifetime
{
    private const string Context = "tesslate-fake";

    private readonly string _kube = Directory.CreateTempSubdirectory("ops-kube-").FullName;
    private FakeKubeApi _fake = null!;

    public async ValueTask InitializeAsync() =>
        // Objects seeded now are two hours old, past the pruning's minimum age.
        _fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { ClockStart = DateTimeOffset.UtcNow.AddHours(-2) }, TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _fake.DisposeAsync();
        Directory.Delete(_kube, recursive: true);
    }

    [Fact]
    public async Task PruneProjectNamespaces_deletes_orphaned_project_namespaces_only_after_approval()
    {
        _fake.Seed(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "proj-orphan" } });
        _fake.Seed(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = "devserver", ["namespace"] = "proj-busy" },
            ["spec"] = new JsonObject
            {
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "devserver" } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = "devserver" } },
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "registry.test/tesslate-devserver:local" }) },
                },
            },
        });

        var (exitCode, output) = await RunAsync();
        Assert.True(exitCode == 1, output);
        Assert.Contains("Approval needed: Delete 1 project namespace(s)", output);
        Assert.Contains("proj-orphan", Namespaces());

        (exitCode, output) = await RunAsync("--approve");
        Assert.True(exitCode == 0, output);
        // Namespace deletion is graceful: Terminating until the namespace controller has emptied it, then gone.
        await Poll.UntilAsync(() => Task.FromResult(Namespaces()), names => !names.Contains("proj-orphan"), "proj-orphan gone");
        Assert.Contains("proj-busy", Namespaces());
    }

    private List<string> Namespaces() => [.. _fake.Store.List(KubeResources.Namespaces).Select(n => (string)n["metadata"]!["name"]!)];

    private Task<(int ExitCode, string Output)> RunAsync(params string[] extra)
    {
        var kubeconfig = Path.Combine(_kube, "config");
        File.WriteAllText(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: fake
                cluster:
                  server: {_fake.Url}
            users:
              - name: fake-user
                user:
                  token: fake-token
            contexts:
              - name: {Context}
                context:
                  cluster: fake
                  user: fake-user
            current-context: {Context}
            """);
        return PipelineRun.RunAsync(["PruneProjectNamespaces", "--environment", "local", "--kube-context", Context, .. extra], new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig });
    }
}
