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
    public async Task Every_variable_used_is_declared_and_only_variables_the_live_stack_left_unused_are_unused(string stack)
    {
        var parsed = await Hcl2Json.StackAsync(stack);
        var declared = parsed.Variables.Keys.ToHashSet(StringComparer.Ordinal);
        var used = parsed.VariablesUsed;
        // Live variables nothing uses (wildcard_domain, litellm_api_base, ...) stay declared: the tfvars set them.
        var live = TerraformFactsTool.Live(Path.GetFileName(stack));
        var liveUnused = live.Section("variables").Keys.Except(VariableReference().Matches(live.Json.GetRawText()).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);

        Assert.True(used.Except(declared).ToList() is { Count: 0 }, $"{stack} uses undeclared variables: {string.Join(", ", used.Except(declared))}");
        Assert.True(declared.Except(used).Except(liveUnused).ToList() is { Count: 0 }, $"{stack} declares unused variables: {string.Join(", ", declared.Except(used).Except(liveUnused))}");
        Assert.Contains(liveUnused, declared.Contains);
    }

    [Theory]
    [MemberData(nameof(Stacks))]
    public async Task Secret_looking_variables_are_sensitive_and_no_sensitive_default_holds_a_value(string stack)
    {
        var parsed = await Hcl2Json.StackAsync(stack);

        foreach (var (name, body) in parsed.Variables)
        {
            var sensitive = body.TryGetProperty("sensitive", out var s) && s.ValueKind == JsonValueKind.True;
            if (SecretLookingName().IsMatch(name))
                Assert.True(sensitive, $"{stack}: variable {name} looks secret but is not sensitive = true");
            // The live stack defaults optional secrets to "" (the tfvars may omit them); never to a value.
            if (sensitive && body.TryGetProperty("default", out var value))
                Assert.True(value.ValueKind == JsonValueKind.String && value.GetString() == "", $"{stack}: secret variable {name} has a non-empty default");
        }
        Assert.Contains(parsed.Variables, v => v.Key == "cloudflare_api_token" && !v.Value.TryGetProperty("default", out _));
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
            Assert.Contains("data.aws_eks_cluster_auth.cluster.token", text, StringComparison.Ordinal);
            Assert.DoesNotContain("exec", text, StringComparison.Ordinal);
        });
        // The token is the eks-deployer role's, the identity the live stack's `aws eks get-token --role-arn` used.
        var auth = parsed.Files.Values.Where(f => f.TryGetProperty("data", out _)).Select(f => f.GetProperty("data"))
            .Single(d => d.TryGetProperty("aws_eks_cluster_auth", out _)).GetProperty("aws_eks_cluster_auth").GetProperty("cluster")[0];
        Assert.Equal("${aws.eks_deployer}", auth.GetProperty("provider").GetString());
        var alias = parsed.Blocks("provider").Single(p => p.Name == "aws" && p.Body.TryGetProperty("alias", out _)).Body;
        Assert.Equal("${aws_iam_role.eks_deployer.arn}", alias.GetProperty("assume_role")[0].GetProperty("role_arn").GetString());
        Assert.All(parsed.Blocks("provider").Where(p => p.Name == "aws"), p => Assert.Equal("${var.aws_account_id}", p.Body.GetProperty("allowed_account_ids")[0].GetString()));
    }

    [Fact]
    public async Task Environment_keeps_the_live_default_but_is_validated_and_admins_must_not_be_empty()
    {
        var variables = (await Hcl2Json.StackAsync("terraform/aws")).Variables;

        // The live default stays (a tfvars that relies on it must keep planning); the pipeline refuses tfvars that do
        // not name the run's environment (TfvarsFile.RequireEnvironment) before any plan.
        var environment = variables["environment"];
        Assert.Equal("production", environment.GetProperty("default").GetString());
        var condition = environment.GetProperty("validation")[0].GetProperty("condition").GetString()!;
        Assert.Contains("\"beta\"", condition, StringComparison.Ordinal);
        Assert.Contains("\"production\"", condition, StringComparison.Ordinal);

        foreach (var stack in new[] { "terraform/aws", "terraform/shared" })
        {
            var admins = (await Hcl2Json.StackAsync(stack)).Variables["eks_admin_iam_arns"];
            Assert.Contains(admins.GetProperty("validation").EnumerateArray(),
                v => v.GetProperty("condition").GetString()!.Contains("length(var.eks_admin_iam_arns) > 0", StringComparison.Ordinal));
            Assert.Equal(Tesslate.Build.Platform.EnvironmentTable.TesslateAccountId, (await Hcl2Json.StackAsync(stack)).Variables["aws_account_id"].GetProperty("default").GetString());
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
        foreach (var (name, body) in variables.Where(v => v.Value.TryGetProperty("sensitive", out var s) && s.ValueKind == JsonValueKind.True && set.ContainsKey(v.Key)))
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
    public async Task Ecr_has_a_mutable_scanned_encrypted_repository_per_catalog_image_and_never_expires_the_pipelines_builds()
    {
        var shared = await Hcl2Json.StackAsync("terraform/shared");

        var repositories = shared.Resources("aws_ecr_repository").ToList();
        var names = repositories.Select(r => r.Body.GetProperty("name").GetString()!.Replace("${var.project_name}", "tesslate", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal(InfrastructureLayout.Catalog.Select(i => i.Repository).Order(), names);
        Assert.All(repositories, r =>
        {
            Assert.Equal("MUTABLE", r.Body.GetProperty("image_tag_mutability").GetString());
            Assert.True(r.Body.GetProperty("image_scanning_configuration")[0].GetProperty("scan_on_push").GetBoolean());
            Assert.Equal("AES256", r.Body.GetProperty("encryption_configuration")[0].GetProperty("encryption_type").GetString());
        });
        Assert.Equal(repositories.Select(r => r.Name).Order(), shared.Resources("aws_ecr_lifecycle_policy").Select(p => p.Name).Order());

        // Rollbacks pull git-<sha> / src-<fingerprint> images by digest: no rule may select them (nor "any" tag).
        var policy = shared.Files.Values.Where(f => f.TryGetProperty("locals", out _)).SelectMany(f => f.GetProperty("locals").EnumerateArray())
            .Single(l => l.TryGetProperty("ecr_lifecycle_policy", out _)).GetProperty("ecr_lifecycle_policy").GetString()!;
        Assert.DoesNotContain("\"any\"", policy, StringComparison.Ordinal);
        foreach (Match prefixes in TagPrefixList().Matches(policy))
            Assert.DoesNotMatch("\"(git|src|cache)", prefixes.Value);
        Assert.Contains("tagStatus   = \"untagged\"", policy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_github_roles_trust_this_repository_only_as_deploy_yml_uses_them()
    {
        var stack = await Hcl2Json.StackAsync("terraform/aws");
        var modules = stack.Blocks("module").ToDictionary(m => m.Name, m => m.Body);

        var deploy = modules["github_deploy_role"];
        Assert.EndsWith("//modules/iam-github-oidc-role", deploy.GetProperty("source").GetString(), StringComparison.Ordinal);
        Assert.Equal("${var.github_repository}:environment:${var.environment}", Assert.Single(deploy.GetProperty("subjects").EnumerateArray()).GetString());
        var build = modules["github_build_role"];
        Assert.Contains(":ref:refs/heads/main", build.GetProperty("subjects").GetString(), StringComparison.Ordinal);
        Assert.All(new[] { deploy, build }, role => Assert.Equal("${local.github_roles}", role.GetProperty("create").GetString()));
        Assert.Equal("", stack.Variables["github_repository"].GetProperty("default").GetString());
        // The names deploy.yml reads (build/Platform/Workflows.cs) are what the outputs describe.
        var workflows = File.ReadAllText(InfrastructureLayout.Full("build/Platform/Workflows.cs"));
        var outputs = File.ReadAllText(InfrastructureLayout.Full("terraform/aws/outputs.tf"));
        foreach (var variable in new[] { "AWS_DEPLOY_ROLE_ARN", "AWS_BUILD_ROLE_ARN_" })
        {
            Assert.Contains(variable, workflows, StringComparison.Ordinal);
            Assert.Contains(variable, outputs, StringComparison.Ordinal);
        }
        var provider = (await Hcl2Json.StackAsync("terraform/shared")).Blocks("module").Single(m => m.Name == "github_oidc_provider").Body;
        Assert.EndsWith("//modules/iam-github-oidc-provider", provider.GetProperty("source").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_groups_follow_the_environment_table()
    {
        var eks = File.ReadAllText(InfrastructureLayout.Full("terraform/aws/cluster.tf"));
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

    [GeneratedRegex(@"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"tagPrefixList\s*=\s*\[[^\]]*\]")]
    private static partial Regex TagPrefixList();
}
