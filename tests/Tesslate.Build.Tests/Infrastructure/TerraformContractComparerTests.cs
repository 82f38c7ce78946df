using System.Text.Json;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>The comparison itself (pure), on small stacks: what counts as kept, covered, lost.</summary>
public sealed class TerraformContractComparerTests
{
    private static StackFacts Facts(string json) => new(JsonDocument.Parse(json).RootElement.Clone());

    private static string Stack(string addresses, string moved = "[]", string removed = "[]") => $$"""
        {
          "required_version": ">= 1.5.0", "backend": "s3",
          "required_providers": { "aws": { "source": "hashicorp/aws", "version": "~> 5.0" } },
          "providers": {}, "locals": {}, "variables": {}, "outputs": {},
          "addresses": { {{addresses}} },
          "moved": {{moved}}, "import": [], "removed": {{removed}}
        }
        """;

    private const string LiveRepository = """
        "aws_ecr_repository.backend": { "kind": "resource", "type": "aws_ecr_repository", "arguments": { "name": "${var.project_name}-backend" } }
        """;

    [Fact]
    public void A_kept_address_with_the_same_arguments_is_no_difference()
    {
        Assert.Empty(TerraformContract.Compare(Facts(Stack(LiveRepository)), Facts(Stack(LiveRepository))));
    }

    [Fact]
    public void A_renamed_address_without_a_moved_block_is_an_address_not_kept_and_an_address_added()
    {
        var project = Stack("""
            "aws_ecr_repository.catalog": { "kind": "resource", "type": "aws_ecr_repository", "arguments": { "for_each": "${local.repositories}", "name": "${each.key}" } }
            """);

        var differences = TerraformContract.Compare(Facts(Stack(LiveRepository)), Facts(project));

        Assert.Contains(differences, d => d is { Subject: "aws_ecr_repository.backend", AddressNotKept: true });
        Assert.Contains(differences, d => d is { Subject: "aws_ecr_repository.catalog", Fact: "address added" });
    }

    [Fact]
    public void A_moved_block_within_the_type_covers_the_live_address_and_its_arguments_are_compared_at_the_target()
    {
        var project = Stack("""
            "aws_ecr_repository.catalog": { "kind": "resource", "type": "aws_ecr_repository", "arguments": { "name": "${var.project_name}-backend" } }
            """, moved: """[ { "from": "aws_ecr_repository.backend", "to": "aws_ecr_repository.catalog[\"backend\"]" } ]""");

        var differences = TerraformContract.Compare(Facts(Stack(LiveRepository)), Facts(project));

        Assert.Empty(differences);
    }

    [Fact]
    public void A_moved_block_across_resource_types_is_named_as_a_lost_address()
    {
        var live = Stack("""
            "kubernetes_namespace.tesslate": { "kind": "resource", "type": "kubernetes_namespace", "arguments": { "metadata[0].name": "tesslate" } }
            """);
        var project = Stack("""
            "kubernetes_namespace_v1.tesslate": { "kind": "resource", "type": "kubernetes_namespace_v1", "arguments": { "metadata[0].name": "tesslate" } }
            """, moved: """[ { "from": "kubernetes_namespace.tesslate", "to": "kubernetes_namespace_v1.tesslate" } ]""");

        var difference = Assert.Single(TerraformContract.Compare(Facts(live), Facts(project)), d => d.AddressNotKept);

        Assert.Equal(("kubernetes_namespace.tesslate", "moved across types", "kubernetes_namespace", "kubernetes_namespace_v1"), (difference.Subject, difference.Fact, difference.Live, difference.New));
    }

    [Theory]
    [InlineData(false, "removed from the state (destroy = false)", false)]
    [InlineData(true, "destroyed by a removed block", true)]
    public void A_removed_block_keeps_the_object_only_with_destroy_false(bool destroy, string fact, bool lost)
    {
        var project = Stack("", removed: $$"""[ { "from": "aws_ecr_repository.backend", "destroy": {{(destroy ? "true" : "false")}} } ]""");

        var difference = Assert.Single(TerraformContract.Compare(Facts(Stack(LiveRepository)), Facts(project)));

        Assert.Equal((fact, lost), (difference.Fact, difference.AddressNotKept));
    }

    [Fact]
    public void A_changed_argument_names_its_path_and_both_values()
    {
        var project = Stack(LiveRepository.Replace("-backend", "-api", StringComparison.Ordinal));

        var difference = Assert.Single(TerraformContract.Compare(Facts(Stack(LiveRepository)), Facts(project)));

        Assert.Equal(("aws_ecr_repository.backend", "argument name", "${var.project_name}-backend", "${var.project_name}-api"), (difference.Subject, difference.Fact, difference.Live, difference.New));
    }

    [Theory]
    [InlineData("~> 20.0", "20.37.2", true)]
    [InlineData("~> 5.30", "5.60.0", true)]
    [InlineData("~> 5.30", "5.29.0", false)]
    [InlineData("~> 20.0", "21.19.0", false)]
    [InlineData("~> 5.5.0", "5.6.0", false)]
    [InlineData("~> 5.5", "~> 5.5", true)]
    public void A_pinned_module_version_is_kept_when_the_live_constraint_allows_it(string live, string pinned, bool kept)
    {
        Assert.Equal(kept, TerraformContract.ModuleVersionKept(live, pinned));
    }

    [Fact]
    public void Variables_lost_or_losing_their_default_and_new_ones_without_default_are_named()
    {
        var live = Facts(Stack("").Replace("\"variables\": {}", """
            "variables": { "domain_name": { "type": "string", "has_default": false, "sensitive": false },
                           "image_tag": { "type": "string", "has_default": true, "sensitive": false },
                           "app_secret_key": { "type": "string", "has_default": false, "sensitive": true } }
            """, StringComparison.Ordinal));
        var project = Facts(Stack("").Replace("\"variables\": {}", """
            "variables": { "domain_name": { "type": "string", "has_default": false, "sensitive": false },
                           "image_tag": { "type": "string", "has_default": false, "sensitive": false },
                           "letsencrypt_email": { "type": "string", "has_default": false, "sensitive": false } }
            """, StringComparison.Ordinal));

        var differences = TerraformContract.Compare(live, project);

        Assert.Equal(
            ["variable.app_secret_key: variable missing", "variable.image_tag: variable default removed", "variable.letsencrypt_email: variable added without default"],
            differences.Select(d => $"{d.Subject}: {d.Fact}").Order(StringComparer.Ordinal));
    }
}
