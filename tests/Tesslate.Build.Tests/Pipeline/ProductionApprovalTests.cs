using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Platform;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Tesslate.Build.Tests.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>
/// Every target of the pipeline, run against production with no terminal and no --approve, changes nothing: the ones
/// that would change something stop as AwaitingApproval before their first change. Production is real enough to get
/// there: moto's identity and EKS cluster (its DescribeCluster pointed at the fake API server), two releases deployed
/// with --approve, a registry with every catalog image, FakeTerraform with a plan that changes things.
/// </summary>
[Collection("moto")]
public sealed class ProductionApprovalTests(MotoFixture moto, DockerEngineFixture engine, PrivateRegistryFixture registry)
    : MotoTests(moto), IClassFixture<PrivateRegistryFixture>
{
    private const string Namespace = "tesslate";

    // Targets that only read or that write nothing of an environment, left out for a reason of their own.
    private static readonly Dictionary<string, string> NotWalked = new(StringComparer.Ordinal)
    {
        ["Logs"] = "follows pod logs until Ctrl-C",
        ["Verify"] = "asks the environment's public URL over HTTPS (tests reach loopback only)",
        ["GenerateSchema"] = "writes this repository's files",
        ["GenerateBackendFiles"] = "writes this repository's files",
        ["GenerateWorkflows"] = "writes this repository's files",
    };

    // What each target needs to get as far as its first change.
    private static readonly Dictionary<string, string[]> Arguments = new(StringComparer.Ordinal)
    {
        ["Scale"] = ["--workloads", "backend", "--replicas", "3"],
        ["TerraformState"] = ["--state-args", "rm", "aws_s3_bucket.snapshots"],
        ["BuildImages"] = ["--images", "ast", "--promote"],
        ["Deploy"] = ["--skip", "BuildImages"],
        ["KustomizeApply"] = ["--skip", "BuildImages"],
        ["RolloutRestart"] = ["--skip", "BuildImages"],
        ["WaitRollout"] = ["--skip", "BuildImages"],
        ["SeedApps"] = ["--skip", "BuildImages"],
    };

    // Targets this setup lets reach a change: each must have stopped for the approval.
    private static readonly string[] Changing =
        ["Deploy", "KustomizeApply", "RolloutRestart", "WaitRollout", "SeedApps", "TerraformApply", "TerraformState", "TfvarsUpload", "BuildImages",
         "Rollback", "Reload", "Reload --workloads backend", "DeployCompute", "SafeShutdown", "Resume", "Scale", "Migrate",
         // replaces the local tfvars file (it differs from the secret): asked in every environment
         "TfvarsDownload"];

    private static readonly string ShutdownRecord =
        new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [PlatformOperations.ShutdownAnnotation] = "2" } } }.ToJsonString();

    private readonly FakeTerraform _terraform = new();
    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly string _root = RepositoryCopy.Create();
    private readonly string _work = Directory.CreateTempSubdirectory("tesslate-production-").FullName;
    private FakeKubeApi _fake = null!;
    private FaultInjectingProxy _eks = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { DefaultRolloutDuration = TimeSpan.FromMilliseconds(300), NodeCount = 2 }, Ct);
        _fake.Exec.Respond("python -m scripts.seed_apps", 0, "seeded");
        _fake.Exec.Respond("alembic upgrade head", 0, "migrated");
        // Terraform creates the namespace (with its secrets) before any overlay is applied.
        await _fake.CreateClient().CoreV1.CreateNamespaceAsync(new k8s.Models.V1Namespace { Metadata = new k8s.Models.V1ObjectMeta { Name = Namespace } }, cancellationToken: Ct);
        await MotoEks.CreateClusterAsync(Moto, "tesslate-production-eks");
        _eks = await MotoEks.PointClustersAtAsync(Moto.Url, _fake.Url);
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", "tesslate/terraform/production", "--secret-string", "environment = \"production\"\n");
        Directory.CreateDirectory(Path.Combine(_root, "terraform", "aws"));
        File.WriteAllText(Path.Combine(_root, "terraform", "aws", "backend-production.hcl"),
            "bucket = \"state\"\nkey = \"production/terraform.tfstate\"\nregion = \"us-east-1\"\nencrypt = true\nuse_lockfile = true\n");
        File.WriteAllText(Path.Combine(_root, "terraform", "aws", "terraform.production.tfvars"), "environment = \"production\"\nnode_count = 3\n");
        _terraform.ShowJson = PlanFixtures.CreateAndUpdateOnly;
        _terraform.PlanExitCode = 2;
    }

    [Fact]
    public async Task Every_target_against_production_without_approval_changes_nothing_and_the_changing_ones_await_the_approval()
    {
        // Production as it runs: every catalog image tagged `production`, then two approved releases.
        var catalog = ImageCatalog.Load(Path.Combine(_root, "images"));
        foreach (var image in catalog.Images)
            await TestImages.PushAsync(registry.Address, image.Repository, "production", $"{image.Name} production", Ct);
        foreach (var version in new[] { "v1", "v2" })
        {
            var (deployed, output) = await RunAsync("Deploy", ["--skip", "BuildImages", "TerraformApply", "--approve", "--build-report", await BuildReportAsync(catalog, version)]);
            Assert.True(deployed == 0, output);
        }
        var report = await BuildReportAsync(catalog, "v3");
        // A shutdown recorded on the workloads (as SafeShutdown leaves it), so Resume gets as far as its change.
        foreach (var workload in new[] { "tesslate-backend", "tesslate-worker" })
            await _fake.CreateClient().AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(ShutdownRecord, V1Patch.PatchType.MergePatch), workload, Namespace, cancellationToken: Ct);

        var problems = new List<string>();
        var walked = new List<string>();
        foreach (var target in TargetGraph.Create(new Build()).Targets.Select(t => t.Name).Where(t => !NotWalked.ContainsKey(t)))
        {
            foreach (var extra in target == "Reload" ? new[] { Array.Empty<string>(), ["--workloads", "backend"] } : [Arguments.GetValueOrDefault(target, [])])
            {
                var name = extra.Length > 0 && target == "Reload" ? $"{target} {string.Join(' ', extra)}" : target;
                walked.Add(name);
                var tags = await ProductionTagsAsync(catalog);
                var terraformCalls = _terraform.Calls.Count;
                var secret = await Moto.AwsCliAsync("secretsmanager", "get-secret-value", "--secret-id", "tesslate/terraform/production", "--query", "SecretString");
                _fake.ClearRequests();
                var execs = _fake.Exec.Invocations.Count;

                var (exitCode, output) = await RunAsync(target, [.. extra, "--build-report", report]);

                var changes = _fake.Mutations.Where(m => !m.Path.Contains("/leases", StringComparison.Ordinal)).Select(m => $"{m.Method} {m.Path}")
                    .Concat(_fake.Exec.Invocations.Skip(execs).Select(e => "exec " + string.Join(' ', e.Command)))
                    .Concat(_terraform.Calls.Skip(terraformCalls).Where(c => c.Arguments[0] is "apply" or "destroy" || c.Arguments is ["state", "rm", ..]).Select(c => "terraform " + string.Join(' ', c.Arguments)))
                    .ToList();
                if (!(await ProductionTagsAsync(catalog)).SequenceEqual(tags))
                    changes.Add("production tags moved");
                if (await Moto.AwsCliAsync("secretsmanager", "get-secret-value", "--secret-id", "tesslate/terraform/production", "--query", "SecretString") != secret)
                    changes.Add("tfvars secret replaced");
                var status = Status(target);
                if (changes.Count > 0)
                    problems.Add($"{name} changed production without approval: {string.Join("; ", changes)}");
                else if (Changing.Contains(name) && !AwaitsApproval())
                    problems.Add($"{name} should stop for the approval, but its status is {status} (exit {exitCode}):\n{Tail(output)}");
                else if (!Changing.Contains(name) && exitCode != 0 && !(exitCode == 2 && target == "TerraformDestroy"))
                    problems.Add($"{name} failed (exit {exitCode}, {status}) although it changes nothing here:\n{Tail(output)}");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n\n", problems));
        Assert.Superset(Changing.ToHashSet(), walked.ToHashSet());
    }

    private async Task<IReadOnlyList<string?>> ProductionTagsAsync(ImageCatalog catalog)
    {
        using var client = new RegistryClient(registry.Address);
        var tags = new List<string?>();
        foreach (var image in catalog.Images)
            tags.Add(await client.GetDigestAsync(image.Repository, "production", Ct));
        return tags;
    }

    private async Task<string> BuildReportAsync(ImageCatalog catalog, string version)
    {
        var images = new List<ImageReport>();
        foreach (var name in new[] { "backend", "frontend", "ast", "marketplace", "devserver", "compute" })
        {
            var digest = await TestImages.PushAsync(registry.Address, catalog[name].Repository, $"git-{version}", $"{name} {version}", Ct);
            images.Add(new ImageReport { Name = name, Registry = registry.Address, Repository = catalog[name].Repository, Digest = digest, Outcome = ImageOutcome.Built });
        }
        var path = Path.Combine(_work, $"build-report-{version}.json");
        new BuildReport { Registry = registry.Address, Environment = "production", Images = [.. images] }.Write(path);
        return path;
    }

    private Task<(int ExitCode, string Output)> RunAsync(string target, string[] extra) =>
        PipelineRun.RunAsync(
            [target, .. extra, "--environment", "production", "--aws-account-id", MotoFixture.DefaultAccount, "--registry", registry.Address,
             "--source-root", _app.Root, "--tfvars", Path.Combine(_root, "terraform", "aws", "terraform.production.tfvars"), "--seed-timeout", "30s"],
            new Dictionary<string, string>(Moto.RunEnvironment(_eks.Url))
            {
                ["TERRAFORM_EXE"] = _terraform.ExecutablePath,
                ["DOCKER_EXE"] = engine.DockerExecutable,
                ["DOCKER_HOST"] = engine.Host,
                ["KUBECONFIG"] = Path.Combine(_work, "kubeconfig"),
                ["TESSLATE_GIT_ALLOW_FILE_PROTOCOL"] = "1",
            },
            _root);

    private string? Status(string target) =>
        (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(_root, ".nuke", "temp", "run-report.json")))!["targets"]!.AsArray()
            .SingleOrDefault(t => (string?)t!["name"] == target)?["status"];

    /// <summary>The run stopped for the approval (in the target itself, or in the preparation a target it depends on runs).</summary>
    private bool AwaitsApproval() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(_root, ".nuke", "temp", "run-report.json")))!["targets"]!.AsArray()
            .Any(t => (string?)t!["status"] == "awaiting-approval");

    private static string Tail(string output) => string.Join('\n', output.Split('\n').TakeLast(25));

    public override async ValueTask DisposeAsync()
    {
        await _eks.DisposeAsync();
        await _fake.DisposeAsync();
        _terraform.Dispose();
        _app.Dispose();
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_work, recursive: true);
        await base.DisposeAsync();
    }
}
