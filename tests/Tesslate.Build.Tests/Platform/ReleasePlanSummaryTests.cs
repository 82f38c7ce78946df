using System.Text.Json;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Registry;
using Tesslate.Build.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Release;

public sealed class ReleasePlanSummaryTests
{
    private static ImageFingerprint Fingerprint(string value) => new(value, 3, null, [], []);

    private static readonly ImageDecision Reused = new()
    {
        Name = "backend",
        Action = ImageAction.Reuse,
        Fingerprint = Fingerprint("0123456789abcdef0123"),
        Existing = new RegistryManifest(RegistryClient.OciManifest, [], "sha256:aa"),
    };

    private static readonly ImageDecision Built = new() { Name = "frontend", Action = ImageAction.Build, Fingerprint = Fingerprint("fedcba9876543210fedc"), Reason = DecisionReason.NotInRegistry };

    private static readonly PlanSummary Terraform = new([
        new ResourceChange("aws_s3_bucket.logs", ResourceAction.Update),
        new ResourceChange("module.eks.aws_eks_node_group.main", ResourceAction.Replace),
        new ResourceChange("aws_iam_role.old", ResourceAction.Delete),
    ]);

    private static readonly ApplyReport Kubernetes = new([
        new AppliedObject(new ObjectRef("Deployment", "tesslate", "backend"), ApplyOutcome.Configured, true, ["spec.template: changed"]),
        new AppliedObject(new ObjectRef("Service", "tesslate", "backend"), ApplyOutcome.Unchanged, false, []),
        new AppliedObject(new ObjectRef("ConfigMap", "tesslate", "new"), ApplyOutcome.Created, false, []),
    ], DryRun: true);

    [Fact]
    public void A_terraform_plan_that_destroys_comes_first_with_every_address_then_the_images_and_Kubernetes_aligned()
    {
        var lines = new ReleasePlanSummary("beta") { Images = [Reused, Built], Terraform = Terraform, Kubernetes = Kubernetes }.Lines();

        Assert.Equal([
            "Release plan for beta:",
            "  terraform       1 to add, 1 to change, 2 to destroy (1 replaced)",
            "    replace       module.eks.aws_eks_node_group.main",
            "    destroy       aws_iam_role.old",
            "  image backend   0123456789ab  reuse src-0123456789abcdef0123",
            "  image frontend  fedcba987654  build (not in the registry)",
            "  kubernetes      1 created, 1 configured, 1 unchanged, 0 skipped",
            "    configured    Deployment/tesslate/backend",
            "    created       ConfigMap/tesslate/new",
        ], lines);
    }

    [Fact]
    public void A_terraform_plan_without_destroys_follows_the_images_and_names_moved_block_candidates_and_tfvars_problems()
    {
        var creates = new PlanSummary([new ResourceChange("module.github_deploy_role.aws_iam_role.this[0]", ResourceAction.Create)]);
        var renamed = PlanSummary.FromJson(Tesslate.Build.Tests.Terraform.PlanFixtures.RenamedWithoutMovedBlocks);

        var quiet = new ReleasePlanSummary("beta")
        {
            Images = [Built],
            Terraform = creates,
            TerraformVariableProblems = [new VariableProblem(VariableProblemKind.Undeclared, "letsencrypt_email")],
        }.Lines();
        var loud = new ReleasePlanSummary("beta") { Images = [Built], Terraform = renamed }.Lines();

        Assert.StartsWith("  image frontend", quiet[1], StringComparison.Ordinal);
        Assert.Matches("^    tfvars +the tfvars set 'letsencrypt_email', which the stack does not declare: Terraform ignores that value$", quiet[^1]);
        Assert.StartsWith("  terraform", loud[1], StringComparison.Ordinal);
        Assert.Contains(loud, l => l.Contains("moved?", StringComparison.Ordinal) && l.EndsWith("aws_ecr_repository.backend destroyed while aws_ecr_repository.catalog[\"backend\"] is created: add a moved block", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cluster_that_cannot_be_compared_says_why_and_parts_the_run_does_not_have_are_left_out()
    {
        var lines = new ReleasePlanSummary("local") { Images = [Built], KubernetesNotCompared = "images not yet known (frontend will be built first)" }.Lines();

        Assert.Equal([
            "Release plan for local:",
            "  image frontend  fedcba987654  build (not in the registry)",
            "  kubernetes      not compared: images not yet known (frontend will be built first)",
        ], lines);
    }

    [Fact]
    public void The_report_section_holds_counts_addresses_and_tags_but_no_manifest_or_values()
    {
        var json = JsonSerializer.Serialize(new ReleasePlanSummary("beta") { Images = [Reused, Built], Terraform = Terraform, Kubernetes = Kubernetes }.ToReport());
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;

        Assert.Equal("reuse", root.GetProperty("images")[0].GetProperty("action").GetString());
        Assert.Equal("src-0123456789abcdef0123", root.GetProperty("images")[0].GetProperty("reuseTag").GetString());
        Assert.Equal("build", root.GetProperty("images")[1].GetProperty("action").GetString());
        Assert.Equal(2, root.GetProperty("terraform").GetProperty("destroy").GetInt32());
        Assert.Equal(["module.eks.aws_eks_node_group.main", "aws_iam_role.old"],
            root.GetProperty("terraform").GetProperty("destroyedOrReplaced").EnumerateArray().Select(c => c.GetProperty("address").GetString()));
        Assert.Equal(1, root.GetProperty("kubernetes").GetProperty("configured").GetInt32());
        Assert.DoesNotContain("sha256:aa", json);
        Assert.DoesNotContain("spec.template", json);
    }

    public static TheoryData<ImageAction, DecisionReason, string> Reasons => new()
    {
        { ImageAction.Build, DecisionReason.ForceBuild, "build (--force-build)" },
        { ImageAction.Build, DecisionReason.BaseImageDigestUnknown, "build (base image digest unknown)" },
        { ImageAction.Build, DecisionReason.NotInRegistry, "build (not in the registry)" },
        { ImageAction.Unknown, DecisionReason.RegistryNotChecked, "unknown (registry not checked)" },
        { ImageAction.Unknown, DecisionReason.NoSourceRoot, "unknown (no --source-root)" },
    };

    [Theory]
    [MemberData(nameof(Reasons))]
    public void Each_image_decision_reason_is_worded_with_the_pipelines_flags(ImageAction action, DecisionReason reason, string line) =>
        Assert.Equal(line, ReleasePlanSummary.Describe(new ImageDecision { Name = "x", Action = action, Reason = reason }));

    [Fact]
    public void A_decision_that_failed_shows_the_problem_it_will_fail_with()
    {
        var failed = new ImageDecision { Name = "x", Action = ImageAction.Build, Reason = DecisionReason.WillFail, Failure = new Tesslate.Build.Engine.BuildFailure("Dockerfile unreadable") };
        Assert.Equal("build (will fail: Dockerfile unreadable)", ReleasePlanSummary.Describe(failed));
        Assert.Equal("reuse " + Reused.ReuseTag, ReleasePlanSummary.Describe(Reused));
        Assert.Equal(Enum.GetValues<DecisionReason>().Length, Reasons.Count + 1);
    }
}
