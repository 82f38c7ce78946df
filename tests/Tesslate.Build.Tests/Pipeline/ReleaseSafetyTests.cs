using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>
/// The real pipeline, in-process, around the release's guards: approval only for runs that change an environment, the
/// deploy lock and the permission check even when ReleasePlan is skipped, a failed release recorded, operations locked.
/// The cluster is the fake API server through a local kube context (no EKS can run here; the guards do not depend on
/// the environment's kind), images go to the real registry through the real Docker engine.
/// </summary>
public sealed class ReleaseSafetyTests(DockerEngineFixture engine, RegistryFixture registry) : IAsyncLifetime
{
    private const string Context = "tesslate-fake";
    private const string Namespace = "tesslate";
    private static readonly LockHolder Alice = new("alice", "alice-laptop", "run-a");

    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly string _root = RepositoryCopy.Create();
    private readonly string _kube = Directory.CreateTempSubdirectory("tesslate-kube-").FullName;
    private FakeKubeApi _fake = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        // Its own sources, so its own fingerprint and git- tag: other tests push the fixture app to the same registry.
        _app.Write("orchestrator/release-safety.txt", Guid.NewGuid().ToString("N"));
        _app.Commit("release safety");
        _fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { DefaultRolloutDuration = TimeSpan.FromSeconds(1) }, Token);
    }

    [Fact]
    public async Task Deploy_with_ReleasePlan_skipped_still_takes_the_deploy_lock_and_stops_before_any_push_or_apply()
    {
        await using var held = await HoldLockAsync();

        var (exitCode, output) = await DeployAsync("--skip", "ReleasePlan");

        Assert.True(exitCode == 1, output);
        Assert.Contains("alice from alice-laptop (run run-a)", output);
        Assert.Equal("skipped", Status("ReleasePlan"));
        Assert.Equal("failed", Status("BuildImages"));
        Assert.False(await PushedAsync(), "an image was pushed although another run holds the lock");
        Assert.DoesNotContain(_fake.Mutations, m => !m.Path.Contains("/leases", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_denied_lease_permission_stops_the_release_before_any_push_or_apply()
    {
        await CreateNamespaceAsync();
        _fake.Access.Deny("create", "leases", Namespace, "coordination.k8s.io");
        _fake.ClearRequests();

        var (exitCode, output) = await DeployAsync();

        Assert.True(exitCode == 1, output);
        Assert.Contains("create leases.coordination.k8s.io in namespace tesslate", output);
        Assert.Equal("failed", Status("ReleasePlan"));
        Assert.False(await PushedAsync(), "an image was pushed although the release could not take its lock");
        Assert.Empty(_fake.Mutations);
    }

    [Fact]
    public async Task A_Deploy_that_fails_in_BuildImages_leaves_a_failed_release_record_and_frees_the_lock()
    {
        await CreateNamespaceAsync();
        _app.Write("orchestrator/Dockerfile", "FROM scratch\nRUN this-command-does-not-exist\n");
        _app.Commit("break the backend build");

        var (exitCode, output) = await DeployAsync();

        Assert.True(exitCode == 1, output);
        Assert.Equal("failed", Status("BuildImages"));
        var history = _fake.Store.Get(KubeResources.Get("", "configmaps"), Namespace, "tesslate-deploy-history");
        Assert.True(history is not null, output);
        var release = Assert.Single(JsonNode.Parse((string)history["data"]!["releases.json"]!)!.AsArray())!;
        Assert.Equal("failed", ((string?)release["outcome"])?.ToLowerInvariant());
        Assert.Empty(release["workloads"]!.AsArray());
        var lease = _fake.Store.Get(KubeResources.Get("coordination.k8s.io", "leases"), Namespace, "tesslate-deploy");
        Assert.True(lease?["spec"]?["holderIdentity"] is null, lease?.ToJsonString());
    }

    [Fact]
    public async Task Deploy_dry_run_shows_the_lock_the_release_it_would_record_and_the_tags_it_would_move_and_changes_nothing()
    {
        await using var held = await HoldLockAsync();

        var (exitCode, output) = await DeployAsync("--dry-run");

        Assert.True(exitCode == 0, output);
        Assert.Contains("Deploy lock: Lease tesslate/tesslate-deploy is held by alice from alice-laptop (run run-a)", output);
        Assert.Contains("Release that would be recorded: #1 Deploy Succeeded", output);
        Assert.Contains("tesslate-backend backend: (new) → ", output);
        Assert.Contains("Tags that would move", output);
        // The same release plan as a real run: this test's own sources are not in the registry yet.
        Assert.Contains("Release plan for local:", output);
        Assert.Matches(@"image backend +[0-9a-f]{12}  build \(not in the registry\)", output);
        Assert.Contains("not compared: images not yet known (backend will be built first)", output);
        Assert.DoesNotContain(_fake.Mutations, m => !m.Path.Contains("/leases", StringComparison.Ordinal));
        Assert.Null(_fake.Store.Get(KubeResources.Get("", "configmaps"), Namespace, "tesslate-deploy-history"));
        Assert.False(await PushedAsync(), "a dry run pushed an image");
    }

    [Fact]
    public async Task Scale_while_another_run_holds_the_lock_stops_naming_the_holder_and_scales_nothing()
    {
        await using var held = await HoldLockAsync();

        var (exitCode, output) = await RunAsync(["Scale", "--environment", "local", "--kube-context", Context, "--workloads", "backend", "--replicas", "2"]);

        Assert.True(exitCode == 1, output);
        Assert.Contains("alice from alice-laptop (run run-a)", output);
        Assert.DoesNotContain(_fake.Mutations, m => !m.Path.Contains("/leases", StringComparison.Ordinal));
    }

    private async Task CreateNamespaceAsync()
    {
        using var client = _fake.CreateClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } }, cancellationToken: Token);
    }

    /// <summary>Another run (Alice's laptop) holds the deploy lock and keeps renewing it.</summary>
    private async Task<HeldDeployLock> HoldLockAsync()
    {
        await CreateNamespaceAsync();
        var held = await new DeployLock(_fake.CreateClient(), new DeployLockOptions(Namespace, "tesslate-deploy"), new LogCapture().Logger).AcquireAsync(Alice, breakLock: false, Token);
        _fake.ClearRequests();
        return held;
    }

    private Task<(int ExitCode, string Output)> DeployAsync(params string[] extra) =>
        RunAsync(["Deploy", "--environment", "local", "--kube-context", Context, "--source-root", _app.Root, "--registry", registry.Address, "--images", "backend", .. extra]);

    private Task<(int ExitCode, string Output)> RunAsync(string[] args, Dictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["DOCKER_EXE"] = engine.DockerExecutable,
            ["DOCKER_HOST"] = engine.Host,
            ["KUBECONFIG"] = FakeKubeconfig.Write(_kube, _fake.Url, Context),
            ["TESSLATE_GIT_ALLOW_FILE_PROTOCOL"] = "1",
        };
        foreach (var (key, value) in extra ?? [])
            environment[key] = value;
        return PipelineRun.RunAsync(args, environment, _root);
    }

    private string? Status(string target) =>
        (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(_root, ".nuke", "temp", "run-report.json")))!["targets"]!.AsArray()
            .Single(t => (string?)t!["name"] == target)!["status"];

    /// <summary>Whether this fixture app's commit reached the registry (its git- tag is unique to the test).</summary>
    private async Task<bool> PushedAsync()
    {
        using var client = new RegistryClient(registry.Address);
        try
        {
            return (await client.ListTagsAsync("tesslate-backend", Token)).Contains("git-" + _app.Head[..12]);
        }
        catch (Engine.BuildFailure)
        {
            return false; // no such repository yet
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _fake.DisposeAsync();
        _app.Dispose();
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_kube, recursive: true);
    }
}

/// <summary>
/// The build job of the generated deploy.yml for production, as CI runs it: no terminal, moto's identity (Preflight runs
/// for real), the local registry in place of ECR. Building needs no approval; that belongs to the deploy job.
/// </summary>
[Collection("moto")]
public sealed class ProductionBuildJobTests(MotoFixture moto, DockerEngineFixture engine, RegistryFixture registry) : MotoTests(moto)
{
    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly string _root = RepositoryCopy.Create();

    [Fact]
    public async Task The_production_build_job_of_deploy_yml_runs_without_a_terminal_and_needs_no_approval()
    {
        // Its own sources, so its own git- tag: other tests push the fixture app to the same registry.
        _app.Write("orchestrator/build-job.txt", Guid.NewGuid().ToString("N"));
        _app.Commit("build job");
        var line = File.ReadLines(Path.Combine(RepositoryPaths.Root, ".github", "workflows", "deploy.yml"))
            .Select(l => l.Trim()).Single(l => l.StartsWith("args=(BuildImages ", StringComparison.Ordinal));
        // The application commit is what the job's first step resolved, and what the checkout has.
        var args = line["args=(".Length..^1].Split(' ')
            .Select(a => a switch { "\"$DEPLOY_ENVIRONMENT\"" => "production", "app-source" => _app.Root, "\"$APPLICATION_COMMIT\"" => _app.Head, _ => a }).ToList();
        Assert.Equal(["BuildImages", "--environment", "production", "--source-root", _app.Root, "--application-ref", _app.Head], args);

        var (exitCode, output) = await PipelineRun.RunAsync(
            [.. args, "--images", "backend", "--registry", registry.Address, "--aws-account-id", MotoFixture.DefaultAccount, "--skip", "EcrLogin"],
            new Dictionary<string, string>(Moto.RunEnvironment())
            {
                ["CI"] = "true",
                ["DOCKER_EXE"] = engine.DockerExecutable,
                ["DOCKER_HOST"] = engine.Host,
                ["TESSLATE_GIT_ALLOW_FILE_PROTOCOL"] = "1",
            },
            _root);

        Assert.True(exitCode == 0, output);
        Assert.Contains("✔ Preflight", output);
        Assert.Contains("✔ ReleasePlan", output);
        Assert.DoesNotContain("approv", output, StringComparison.OrdinalIgnoreCase);
        using var client = new RegistryClient(registry.Address);
        Assert.Contains("git-" + _app.Head[..12], await client.ListTagsAsync("tesslate-backend", TestContext.Current.CancellationToken));
    }

    public override ValueTask DisposeAsync()
    {
        _app.Dispose();
        Directory.Delete(_root, recursive: true);
        return base.DisposeAsync();
    }
}

/// <summary>
/// First provisioning of beta: moto has no EKS cluster yet and FakeTerraform stands in for terraform. The release must
/// not need the cluster before TerraformApply creates it.
/// </summary>
[Collection("moto")]
public sealed class FirstProvisioningTests(MotoFixture moto) : MotoTests(moto)
{
    private readonly FakeTerraform _terraform = new();
    private readonly string _root = RepositoryCopy.Create();

    [Fact]
    public async Task Without_a_cluster_yet_the_release_skips_the_permission_check_and_the_lock_and_says_Terraform_guards_alone()
    {
        Directory.CreateDirectory(Path.Combine(_root, "terraform", "aws"));
        File.WriteAllText(Path.Combine(_root, "terraform", "aws", "backend-beta.hcl"),
            "bucket = \"tesslate-terraform-state\"\nkey = \"beta/terraform.tfstate\"\nregion = \"us-east-1\"\nencrypt = true\nuse_lockfile = true\n");
        var tfvars = Path.Combine(_root, "beta.tfvars");
        File.WriteAllText(tfvars, "environment = \"beta\"\n");
        _terraform.ShowJson = PlanFixtures.CreateAndUpdateOnly;
        _terraform.PlanExitCode = 2;

        var (exitCode, output) = await PipelineRun.RunAsync(
            ["Deploy", "--environment", "beta", "--aws-account-id", MotoFixture.DefaultAccount, "--registry", "127.0.0.1:1", "--tfvars", tfvars,
             "--skip", "EcrLogin", "SubmodulesInit", "BuildImages"],
            new Dictionary<string, string>(Moto.RunEnvironment()) { ["TERRAFORM_EXE"] = _terraform.ExecutablePath },
            _root);

        // Terraform applied (it would create the cluster); only then does the release look for the cluster.
        Assert.True(exitCode == 1, output);
        Assert.Contains("Terraform's state lock is the only guard", output);
        Assert.Single(_terraform.CallsOf("apply"));
        var targets = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, ".nuke", "temp", "run-report.json")))!["targets"]!.AsArray();
        string? Status(string name) => (string?)targets.Single(t => (string?)t!["name"] == name)!["status"];
        Assert.Equal("succeeded", Status("ReleasePlan"));
        Assert.Equal("succeeded", Status("TerraformApply"));
        Assert.Equal("failed", Status("KustomizeApply"));
    }

    public override ValueTask DisposeAsync()
    {
        _terraform.Dispose();
        Directory.Delete(_root, recursive: true);
        return base.DisposeAsync();
    }
}
