using Tesslate.Build.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Terraform;

public sealed class PlanSummaryTests
{
    [Fact]
    public void Counts_follow_terraforms_plan_line_where_a_replacement_is_one_add_and_one_destroy()
    {
        var summary = PlanSummary.FromJson(PlanFixtures.WithDestroyAndReplace);

        Assert.Equal(3, summary.ToAdd);     // create + 2 replacements
        Assert.Equal(1, summary.ToChange);
        Assert.Equal(3, summary.ToDestroy); // delete + 2 replacements
        Assert.Equal(2, summary.ToReplace);
        Assert.Equal("3 to add, 1 to change, 3 to destroy (2 replaced)", summary.CountsLine);
    }

    [Fact]
    public void Destroys_and_both_replacement_orders_are_detected_by_address()
    {
        var summary = PlanSummary.FromJson(PlanFixtures.WithDestroyAndReplace);

        Assert.True(summary.HasDestroyOrReplace);
        Assert.Equal(
            [
                ("module.eks.aws_eks_node_group.primary", ResourceAction.Replace),
                ("aws_security_group.nodes", ResourceAction.ReplaceCreateBeforeDestroy),
                ("aws_s3_bucket.old_logs", ResourceAction.Delete),
            ],
            summary.DestroyedOrReplaced.Select(c => (c.Address, c.Action)));
    }

    [Fact]
    public void Creates_and_updates_alone_are_not_destructive()
    {
        var summary = PlanSummary.FromJson(PlanFixtures.CreateAndUpdateOnly);

        Assert.False(summary.HasDestroyOrReplace);
        Assert.Equal("1 to add, 1 to change, 0 to destroy", summary.CountsLine);
    }

    [Fact]
    public void No_op_and_read_entries_are_not_changes()
    {
        var summary = PlanSummary.FromJson("""{"resource_changes":[{"address":"a.b","change":{"actions":["no-op"]}},{"address":"data.c.d","change":{"actions":["read"]}}]}""");

        Assert.False(summary.HasChanges);
        Assert.Equal("no changes", summary.CountsLine);
    }

    [Theory]
    [InlineData("""{"output_changes":{"cluster_name":{"actions":["update"]}}}""", true, "0 to add, 0 to change, 0 to destroy; 1 output(s) changed")]
    [InlineData("""{"output_changes":{"new_output":{"actions":["create"]},"gone":{"actions":["delete"]}}}""", true, "0 to add, 0 to change, 0 to destroy; 2 output(s) changed")]
    [InlineData("""{"output_changes":{"cluster_name":{"actions":["no-op"]}}}""", false, "no changes")]
    [InlineData("""{"resource_changes":[{"address":"a.b","change":{"actions":["update"]}}],"output_changes":{"x":{"actions":["update"]}}}""", true, "0 to add, 1 to change, 0 to destroy; 1 output(s) changed")]
    [InlineData("""{}""", false, "no changes")]
    public void A_plan_has_changes_when_a_resource_or_an_output_changes(string planJson, bool hasChanges, string counts)
    {
        var summary = PlanSummary.FromJson(planJson);

        Assert.Equal(hasChanges, summary.HasChanges);
        Assert.Equal(counts, summary.CountsLine);
    }

    [Fact]
    public void The_step_summary_names_counts_and_addresses_but_no_attribute_values()
    {
        var markdown = PlanSummary.FromJson(PlanFixtures.WithDestroyAndReplace).ToMarkdown("Terraform plan: beta");

        Assert.Contains("3 to add, 1 to change, 3 to destroy", markdown);
        Assert.Contains("`module.eks.aws_eks_node_group.primary`: replace (destroy, then create)", markdown);
        Assert.Contains("<details><summary>5 resource changes</summary>", markdown);
        Assert.Contains("</details>", markdown);
        Assert.DoesNotContain(PlanFixtures.DatabasePassword, markdown);
        Assert.DoesNotContain("db.t3.medium", markdown);
        Assert.DoesNotContain("AL2023", markdown);
    }

    [Fact]
    public void The_summary_record_itself_prints_no_values()
    {
        var summary = PlanSummary.FromJson(PlanFixtures.WithDestroyAndReplace);

        Assert.DoesNotContain(PlanFixtures.DatabasePassword, summary.ToString());
    }
}

public sealed class TerraformVersionTests
{
    [Theory]
    [InlineData("""{"terraform_version":"1.11.4","platform":"linux_amd64"}""", "1.11.4")]
    [InlineData("""{"terraform_version":"1.12.0-beta1"}""", "1.12.0")]
    [InlineData("Terraform v0.12.31\n+ provider.aws v3.0.0", "0.12.31")]
    public void The_version_is_read_from_json_or_the_old_text_form(string output, string expected)
    {
        Assert.Equal(Version.Parse(expected), TerraformVersion.Parse(output));
    }

    [Fact]
    public void Terraform_1_9_is_refused_naming_found_and_required_versions_and_how_to_upgrade()
    {
        var error = Assert.Throws<Engine.BuildFailure>(() =>
            TerraformVersion.Require(TerraformVersion.Parse(PlanFixtures.Version19), "/usr/bin/terraform", PlanFixtures.Version19));

        Assert.Contains("Terraform 1.9.8", error.Problem);
        Assert.Contains("1.11 or newer", error.Problem);
        Assert.Contains("use_lockfile", error.Problem);
        Assert.Contains("setup-terraform", error.Fix);
    }

    [Fact]
    public void Terraform_1_11_0_is_accepted()
    {
        TerraformVersion.Require(TerraformVersion.Parse(PlanFixtures.Version111), "terraform", PlanFixtures.Version111);
    }

    [Fact]
    public void Unreadable_version_output_is_a_failure()
    {
        Assert.Throws<Engine.BuildFailure>(() => TerraformVersion.Require(TerraformVersion.Parse("OpenTofu?"), "terraform", "OpenTofu?"));
    }

    [Fact]
    public void A_destroy_with_a_create_of_the_same_type_says_a_moved_block_would_keep_it()
    {
        var summary = PlanSummary.FromJson(PlanFixtures.RenamedWithoutMovedBlocks);

        var hint = Assert.Single(summary.MoveHints);
        Assert.Equal("aws_ecr_repository.backend destroyed while aws_ecr_repository.catalog[\"backend\"] is created: add a moved block", hint.Text);
    }

    [Fact]
    public void A_destroy_paired_only_with_a_create_of_another_type_gets_no_moved_block_hint()
    {
        // kubernetes_namespace → kubernetes_namespace_v1: the provider cannot move state across types.
        var summary = PlanSummary.FromJson(PlanFixtures.RenamedWithoutMovedBlocks);

        Assert.DoesNotContain(summary.MoveHints, h => h.Destroyed == "kubernetes_namespace.tesslate");
        Assert.Contains(summary.DestroyedOrReplaced, c => c.Address == "kubernetes_namespace.tesslate");
    }

    [Fact]
    public void Without_a_matching_name_every_created_address_of_the_type_is_a_candidate()
    {
        var summary = new PlanSummary([
            new ResourceChange("aws_s3_bucket.logs", ResourceAction.Delete),
            new ResourceChange("aws_s3_bucket.archive", ResourceAction.Create),
            new ResourceChange("module.storage.aws_s3_bucket.this[0]", ResourceAction.Create),
        ]);

        var hint = Assert.Single(summary.MoveHints);
        Assert.Equal(["aws_s3_bucket.archive", "module.storage.aws_s3_bucket.this[0]"], hint.Created);
        Assert.EndsWith("are created: if one of them is aws_s3_bucket.logs renamed, add a moved block", hint.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("aws_ecr_repository.backend", "aws_ecr_repository")]
    [InlineData("aws_ecr_repository.catalog[\"backend\"]", "aws_ecr_repository")]
    [InlineData("module.eks.module.eks_managed_node_group[\"spot\"].aws_eks_node_group.this[0]", "aws_eks_node_group")]
    [InlineData("module.eks.data.aws_partition.current", "aws_partition")]
    public void The_resource_type_is_read_from_an_address_when_the_plan_has_none(string address, string type)
    {
        Assert.Equal(type, ResourceChange.TypeOf(address));
    }

    [Fact]
    public void The_lines_name_the_counts_every_destroyed_or_replaced_address_and_the_hints()
    {
        var lines = PlanSummary.FromJson(PlanFixtures.RenamedWithoutMovedBlocks).Lines();

        Assert.Equal("4 to add, 0 to change, 3 to destroy (1 replaced)", lines[0]);
        Assert.Contains("  destroy: aws_ecr_repository.backend", lines);
        Assert.Contains("  destroy: kubernetes_namespace.tesslate", lines);
        Assert.Contains("  replace (destroy, then create): module.eks.module.eks_managed_node_group[\"spot\"].aws_eks_node_group.this[0]", lines);
        Assert.Contains(lines, l => l.EndsWith("is created: add a moved block", StringComparison.Ordinal));
        Assert.Contains("add a moved block", PlanSummary.FromJson(PlanFixtures.RenamedWithoutMovedBlocks).ToMarkdown("plan"), StringComparison.Ordinal);
    }
}
