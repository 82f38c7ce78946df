using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>The Terraform stacks parse (HashiCorp's HCL parser via @cdktf/hcl2json) and hold together.</summary>
public sealed partial class TerraformTests
{
    public static TheoryData<string> Stacks() => ["terraform/shared", "terraform/aws"];

    [Theory]
    [MemberData(nameof(Stacks))]
    public async Task Every_tf_file_of_the_stack_parses(string stack)
    {
        var parsed = await Hcl2Json.StackAsync(stack);

        var files = Directory.GetFiles(InfrastructureLayout.Full(stack), "*.tf");
        Assert.Equal(files.Length, parsed.Files.Count);
        Assert.True(parsed.TfvarsExample.HasValue, $"{stack}/terraform.tfvars.example is missing");
    }

    [Fact]
    public async Task A_syntax_error_is_reported_with_the_file_and_line()
    {
        using var tree = new TemporaryTree();
        tree.Write("broken.tf", "variable \"ok\" {}\n\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = \n}\n");

        var error = await Assert.ThrowsAsync<HclParseException>(() => Hcl2Json.ParseAsync([tree.Path("broken.tf")], TestContext.Current.CancellationToken));

        Assert.Contains("broken.tf:4", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Stacks))]
    public async Task Every_variable_used_is_declared_and_every_declared_variable_is_used(string stack)
    {
        var parsed = await Hcl2Json.StackAsync(stack);
        var declared = parsed.Variables.Keys.ToHashSet(StringComparer.Ordinal);
        var used = parsed.VariablesUsed;

        Assert.True(used.Except(declared).ToList() is { Count: 0 }, $"{stack} uses undeclared variables: {string.Join(", ", used.Except(declared))}");
        Assert.True(declared.Except(used).ToList() is { Count: 0 }, $"{stack} declares unused variables: {string.Join(", ", declared.Except(used))}");
    }

    [Theory]
    [MemberData(nameof(Stacks))]
    public async Task No_secret_variable_has_a_default_and_secret_looking_variables_are_sensitive(string stack)
    {
        var parsed = await Hcl2Json.StackAsync(stack);

        foreach (var (name, body) in parsed.Variables)
        {
            var sensitive = body.TryGetProperty("sensitive", out var s) && s.ValueKind == JsonValueKind.True;
            if (SecretLookingName().IsMatch(name))
                Assert.True(sensitive, $"{stack}: variable {name} looks secret but is not sensitive = true");
            if (sensitive)
                Assert.False(body.TryGetProperty("default", out _), $"{stack}: secret variable {name} has a default value");
        }
    }

    [Theory]
    [MemberData(nameof(Stacks))]
    public async Task Terraform_providers_and_modules_are_pinned_and_the_backend_is_partial_s3(string stack)
    {
        var parsed = await Hcl2Json.StackAsync(stack);
        var terraform = parsed.Files.Values.Single(f => f.TryGetProperty("terraform", out _)).GetProperty("terraform")[0];

        Assert.Equal(">= 1.11", terraform.GetProperty("required_version").GetString());
        foreach (var provider in terraform.GetProperty("required_providers")[0].EnumerateObject())
            Assert.Matches(@"^~> \d+\.\d+$", provider.Value.GetProperty("version").GetString());
        var backend = terraform.GetProperty("backend").GetProperty("s3")[0];
        Assert.Empty(backend.EnumerateObject());

        var modules = parsed.Blocks("module").ToList();
        Assert.NotEmpty(modules);
        foreach (var (_, name, body) in modules)
        {
            Assert.StartsWith("terraform-aws-modules/", body.GetProperty("source").GetString(), StringComparison.Ordinal);
            Assert.True(body.TryGetProperty("version", out var version) && ExactVersion().IsMatch(version.GetString()!), $"module {name} must pin an exact version");
        }
    }

    [Theory]
    [MemberData(nameof(Stacks))]
    public async Task Kubernetes_side_providers_authenticate_with_eks_cluster_auth_not_the_aws_cli(string stack)
    {
        var parsed = await Hcl2Json.StackAsync(stack);
        var providers = parsed.Blocks("provider").Where(p => p.Name is "kubernetes" or "helm" or "kubectl").ToList();

        Assert.Equal(3, providers.Count);
        Assert.All(providers, p =>
        {
            var text = p.Body.GetRawText();
            Assert.Contains("data.aws_eks_cluster_auth.this.token", text, StringComparison.Ordinal);
            Assert.DoesNotContain("exec", text, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Environment_is_validated_to_beta_or_production_and_admins_must_not_be_empty()
    {
        var variables = (await Hcl2Json.StackAsync("terraform/aws")).Variables;

        var environment = variables["environment"];
        Assert.False(environment.TryGetProperty("default", out _), "environment must have no default (legacy defaulted to production)");
        var condition = environment.GetProperty("validation")[0].GetProperty("condition").GetString()!;
        Assert.Contains("\"beta\"", condition, StringComparison.Ordinal);
        Assert.Contains("\"production\"", condition, StringComparison.Ordinal);

        foreach (var stack in new[] { "terraform/aws", "terraform/shared" })
        {
            var admins = (await Hcl2Json.StackAsync(stack)).Variables["eks_admin_iam_arns"];
            Assert.Contains(admins.GetProperty("validation").EnumerateArray(),
                v => v.GetProperty("condition").GetString()!.Contains("length(var.eks_admin_iam_arns) > 0", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Stacks))]
    public async Task Tfvars_example_sets_every_required_variable_names_only_declared_ones_and_holds_no_secret(string stack)
    {
        var parsed = await Hcl2Json.StackAsync(stack);
        var example = parsed.TfvarsExample!.Value;
        var variables = parsed.Variables;
        var set = example.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);

        Assert.Empty(set.Keys.Except(variables.Keys));
        Assert.Empty(variables.Where(v => !v.Value.TryGetProperty("default", out _)).Select(v => v.Key).Except(set.Keys));
        foreach (var (name, body) in variables.Where(v => v.Value.TryGetProperty("sensitive", out var s) && s.ValueKind == JsonValueKind.True))
        {
            var value = set[name];
            var placeholder = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!.Length == 0 || value.GetString()!.Contains("REPLACE_ME", StringComparison.Ordinal),
                JsonValueKind.Object => !value.EnumerateObject().Any(),
                _ => false,
            };
            Assert.True(placeholder, $"{stack}/terraform.tfvars.example: {name} must be a REPLACE_ME placeholder, not a value");
        }
    }

    [Fact]
    public async Task Ecr_has_a_mutable_scanned_encrypted_repository_per_catalog_image_and_keeps_rollback_history()
    {
        var shared = await Hcl2Json.StackAsync("terraform/shared");
        var variables = shared.Variables;

        var repositories = variables["ecr_repositories"].GetProperty("default").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(InfrastructureLayout.Catalog.Select(i => i.Repository).Order(), repositories.Order());
        Assert.True(variables["image_history_count"].GetProperty("default").GetInt32() >= 200);
        Assert.True(variables["untagged_image_days"].GetProperty("default").GetInt32() >= 90);

        var repository = shared.Resources("aws_ecr_repository").Single().Body;
        Assert.Equal("MUTABLE", repository.GetProperty("image_tag_mutability").GetString());
        Assert.True(repository.GetProperty("image_scanning_configuration")[0].GetProperty("scan_on_push").GetBoolean());
        Assert.True(repository.TryGetProperty("encryption_configuration", out _));
        var policy = shared.Resources("aws_ecr_lifecycle_policy").Single().Body.GetProperty("policy").GetString()!;
        foreach (var prefix in new[] { "\"git-\"", "\"src-\"", "var.cache_tag_prefix" })
            Assert.Contains(prefix, policy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Github_deploy_role_trusts_only_this_repositorys_environment_of_the_stack()
    {
        var stack = await Hcl2Json.StackAsync("terraform/aws");

        var role = stack.Blocks("module").Single(m => m.Name == "github_deploy_role").Body;
        Assert.True(role.GetProperty("enable_github_oidc").GetBoolean());
        var subject = Assert.Single(role.GetProperty("oidc_subjects").EnumerateArray()).GetString();
        Assert.Equal("${var.github_repository}:environment:${var.environment}", subject);
        Assert.False(role.TryGetProperty("oidc_wildcard_subjects", out _));
        Assert.DoesNotContain(stack.Resources("aws_iam_access_key"), _ => true);
    }

    [Fact]
    public async Task Node_groups_follow_the_environment_table()
    {
        var eks = File.ReadAllText(InfrastructureLayout.Full("terraform/aws/eks.tf"));
        await Hcl2Json.StackAsync("terraform/aws");

        Assert.Contains("\"tess-${var.environment}-primary\"", eks, StringComparison.Ordinal);
        Assert.Contains("\"tess-${var.environment}-spot\"", eks, StringComparison.Ordinal);
        Assert.Contains("\"PREFER_NO_SCHEDULE\"", eks, StringComparison.Ordinal);
        Assert.Contains("\"tesslate.io/workload-type\" = \"user-project\"", eks, StringComparison.Ordinal);
        Assert.Contains("http_put_response_hop_limit = 1", eks, StringComparison.Ordinal);
        var variables = (await Hcl2Json.StackAsync("terraform/aws")).Variables;
        Assert.Equal("10.0.0.0/16", variables["vpc_cidr"].GetProperty("default").GetString());
        Assert.Equal(10, variables["eks_spot_max_size"].GetProperty("default").GetInt32());
        Assert.Equal(5, variables["eks_node_max_size"].GetProperty("default").GetInt32());
    }

    [GeneratedRegex(@"(secret|password|token|api_key|master_key|private_key)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretLookingName();

    [GeneratedRegex(@"^\d+\.\d+\.\d+$")]
    private static partial Regex ExactVersion();
}
