using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>
/// The Terraform targets of the real pipeline, with FakeTerraform (no terraform binary is obtainable here) and moto's
/// Secrets Manager: tfvars guard, one approval when the plan destroys or replaces, exactly the saved plan applied.
/// </summary>
[Collection("moto")]
public sealed class TerraformTargetsTests(MotoFixture moto) : MotoTests(moto)
{
    private readonly FakeTerraform _terraform = new();
    private readonly string _root = RootWithNuke();

    private static string RootWithNuke()
    {
        var root = Directory.CreateTempSubdirectory("tf-root").FullName;
        Directory.CreateDirectory(Path.Combine(root, ".nuke"));
        return root;
    }

    private Dictionary<string, string> Environment() => new(Moto.RunEnvironment()) { ["TERRAFORM_EXE"] = _terraform.ExecutablePath };

    private string[] Args(params string[] extra) =>
        [.. extra, "--environment", "beta", "--aws-account-id", MotoFixture.DefaultAccount, "--registry", "127.0.0.1:1"];

    private void CreateStack()
    {
        Directory.CreateDirectory(Path.Combine(_root, ".nuke"));
        Directory.CreateDirectory(Path.Combine(_root, "terraform", "aws"));
        File.WriteAllText(Path.Combine(_root, "terraform", "aws", "backend-beta.hcl"),
            "bucket = \"tesslate-terraform-state\"\nkey = \"beta/terraform.tfstate\"\nregion = \"us-east-1\"\nencrypt = true\nuse_lockfile = true\n");
    }

    [Fact]
    public async Task Tfvars_from_secrets_manager_for_another_environment_stop_the_run_before_any_plan()
    {
        CreateStack();
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", "tesslate/terraform/beta", "--secret-string", "environment = \"production\"\ndb_password = \"hunter22-secret\"\n");
        try
        {
            var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformPlan"), Environment(), _root);
            Assert.Equal(1, exitCode);
            Assert.True(output.Contains("production", StringComparison.Ordinal), output);
            Assert.DoesNotContain("hunter22-secret", output);
            Assert.DoesNotContain(File.ReadAllLines(Path.Combine(_terraform.Directory, "calls.log")), call => call.Contains("\u001fplan", StringComparison.Ordinal));
        }
        finally
        {
            await Moto.AwsCliAsync("secretsmanager", "delete-secret", "--secret-id", "tesslate/terraform/beta", "--force-delete-without-recovery");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Tfvars_from_secrets_manager_reach_terraform_in_a_0600_file_that_is_gone_after_the_run(int planExitCode)
    {
        CreateStack();
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", "tesslate/terraform/beta", "--secret-string", "environment = \"beta\"\ndb_password = \"hunter22-secret\"\n");
        _terraform.PlanExitCode = planExitCode;

        var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformPlan"), Environment(), _root);

        Assert.True(exitCode == (planExitCode == 0 ? 0 : 1), output);
        var (mode, path) = Assert.Single(_terraform.VarFilesRead);
        Assert.Equal("600", mode);
        Assert.False(File.Exists(path), $"{path} outlived the run");
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)), "the private Terraform workspace outlived the run");
        Assert.DoesNotContain("hunter22-secret", output);
    }

    [Fact]
    public async Task A_tfvars_secret_with_quotes_backslashes_and_plus_slash_equals_is_masked_where_terraform_quotes_its_line()
    {
        CreateStack();
        const string escaped = "hunter\\\"22\\\\secret+/="; // as written in the tfvars: hunter\"22\\secret+/=
        const string value = "hunter\"22\\secret+/=";
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", "tesslate/terraform/beta", "--secret-string", $"environment = \"beta\"\ndb_password = \"{escaped}\"\n");
        // Terraform's diagnostics quote the var-file's source line, escapes and all.
        _terraform.FailOn("plan", $"Error: Invalid value for variable\n\n  on terraform.beta.tfvars line 2:\n   2: db_password = \"{escaped}\"\n\nThe password must not contain quotes.");
        try
        {
            var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformPlan"), Environment(), _root);

            Assert.True(exitCode == 1, output);
            Assert.Contains("db_password = \"[REDACTED]\"", output);
            var log = await File.ReadAllTextAsync(Path.Combine(_root, ".nuke", "temp", "build.log"), TestContext.Current.CancellationToken);
            var report = await File.ReadAllTextAsync(Path.Combine(_root, ".nuke", "temp", "run-report.json"), TestContext.Current.CancellationToken);
            foreach (var (where, text) in new[] { ("console", output), ("build.log", log), ("run report", report) })
            {
                foreach (var form in new[] { value, escaped, "22\\\\secret", "22\\secret", Uri.EscapeDataString(value) })
                    Assert.False(text.Contains(form, StringComparison.Ordinal), $"{where} shows {form}");
            }
        }
        finally
        {
            await Moto.AwsCliAsync("secretsmanager", "delete-secret", "--secret-id", "tesslate/terraform/beta", "--force-delete-without-recovery");
        }
    }

    [Fact]
    public async Task A_plan_that_destroys_or_replaces_needs_approval_and_without_a_terminal_the_run_awaits_it()
    {
        CreateStack();
        var tfvars = Path.Combine(_root, "beta.tfvars");
        File.WriteAllText(tfvars, "environment = \"beta\"\n");
        _terraform.PlanExitCode = 2;

        var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformApply", "--tfvars", tfvars), Environment(), _root);
        Assert.Equal(1, exitCode);
        Assert.Contains("AwaitingApproval", output);
        // One release plan first, naming what goes away (addresses, no values).
        var releasePlanText = output[output.IndexOf("Release plan for beta:", StringComparison.Ordinal)..];
        Assert.Matches(@"terraform +3 to add, 1 to change, 3 to destroy \(2 replaced\)", releasePlanText);
        Assert.Matches(@"replace +module\.eks\.aws_eks_node_group\.primary", releasePlanText);
        Assert.Matches(@"destroy +aws_s3_bucket\.old_logs", releasePlanText);
        Assert.Contains("AwaitingApproval", releasePlanText);
        var releasePlan = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(_root, ".nuke", "temp", "run-report.json")))!["sections"]!["releasePlan"]!;
        Assert.Equal(3, (int)releasePlan["terraform"]!["destroy"]!);
        Assert.DoesNotContain(File.ReadAllLines(Path.Combine(_terraform.Directory, "calls.log")), call => call.Contains("\u001fapply", StringComparison.Ordinal));

        (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformApply", "--tfvars", tfvars, "--approve"), Environment(), _root);
        Assert.True(exitCode == 0, output);
        var calls = File.ReadAllLines(Path.Combine(_terraform.Directory, "calls.log")).Select(c => c.Split('\u001f')).ToList();
        var plan = calls.Last(c => c[1] == "plan");
        var apply = calls.Last(c => c[1] == "apply");
        var planFile = plan.Single(a => a.StartsWith("-out=", StringComparison.Ordinal))["-out=".Length..];
        Assert.Equal(planFile, apply[^1]);
        Assert.True(File.Exists(tfvars), "a --tfvars file is only read, never moved or deleted");
        Assert.False(File.Exists(planFile), "the private plan file is deleted at the end of the run");
    }

    [Fact]
    public async Task The_account_and_the_state_bucket_reach_every_plan_as_variables_after_the_tfvars()
    {
        CreateStack();
        var tfvars = Path.Combine(_root, "beta.tfvars");
        File.WriteAllText(tfvars, "environment = \"beta\"\n");
        _terraform.PlanExitCode = 0;

        var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformPlan", "--tfvars", tfvars, "--state-bucket", "acme-tf-state"), Environment(), _root);

        Assert.True(exitCode == 0, output);
        var plan = Assert.Single(_terraform.CallsOf("plan")).Arguments.ToList();
        var file = plan.FindIndex(a => a.StartsWith("-var-file=", StringComparison.Ordinal));
        Assert.Equal([$"-var=aws_account_id={MotoFixture.DefaultAccount}", "-var=terraform_state_bucket=acme-tf-state"], plan.Skip(file + 1).Take(2));
    }

    [Fact]
    public async Task The_shared_stacks_tfvars_need_no_environment_and_get_only_the_account()
    {
        Directory.CreateDirectory(Path.Combine(_root, "terraform", "shared"));
        File.WriteAllText(Path.Combine(_root, "terraform", "shared", "backend-shared.hcl"),
            "bucket = \"tesslate-terraform-state\"\nkey = \"shared/terraform.tfstate\"\nregion = \"us-east-1\"\nencrypt = true\nuse_lockfile = true\n");
        var tfvars = Path.Combine(_root, "shared.tfvars");
        // As the live shared tfvars: the stack declares no environment variable.
        File.WriteAllText(tfvars, "cloudflare_zone_id = \"0123\"\n");
        _terraform.PlanExitCode = 0;

        var (exitCode, output) = await PipelineRun.RunAsync(["TerraformPlan", "--environment", "shared", "--aws-account-id", MotoFixture.DefaultAccount, "--tfvars", tfvars], Environment(), _root);

        Assert.True(exitCode == 0, output);
        var plan = Assert.Single(_terraform.CallsOf("plan"));
        Assert.Equal(MotoFixture.DefaultAccount, plan.Flag("-var=aws_account_id"));
        Assert.DoesNotContain(plan.Arguments, a => a.StartsWith("-var=terraform_state_bucket", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TerraformPlan_names_every_address_it_destroys_and_the_moved_block_a_rename_needs()
    {
        CreateStack();
        var tfvars = Path.Combine(_root, "beta.tfvars");
        File.WriteAllText(tfvars, "environment = \"beta\"\n");
        _terraform.ShowJson = PlanFixtures.RenamedWithoutMovedBlocks;

        var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformPlan", "--tfvars", tfvars), Environment(), _root);

        Assert.True(exitCode == 0, output);
        Assert.Contains("4 to add, 0 to change, 3 to destroy (1 replaced)", output);
        Assert.Contains("destroy: aws_ecr_repository.backend", output);
        Assert.Contains("destroy: kubernetes_namespace.tesslate", output);
        Assert.Contains("aws_ecr_repository.backend destroyed while aws_ecr_repository.catalog[\"backend\"] is created: add a moved block", output);
        var section = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(_root, ".nuke", "temp", "run-report.json")))!["sections"]!["terraform"]!;
        Assert.Single(section["moveHints"]!.AsArray());
    }

    [Fact]
    public async Task Tfvars_without_a_required_variable_stop_the_plan_naming_the_variable_and_TfvarsUpload()
    {
        CreateStack();
        File.WriteAllText(Path.Combine(_root, "terraform", "aws", "variables.tf"), """
            variable "environment" {
              type    = string
              default = "production"
            }

            variable "aws_account_id" {
              type    = string
              default = "859561299901"
            }

            variable "terraform_state_bucket" {
              type    = string
              default = "tesslate-terraform-state"
            }

            variable "domain_name" {
              type = string
            }
            """);
        var tfvars = Path.Combine(_root, "beta.tfvars");
        File.WriteAllText(tfvars, "environment = \"beta\"\nletsencrypt_email = \"ops@example.com\"\n");

        var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformPlan", "--tfvars", tfvars), Environment(), _root);

        Assert.Equal(1, exitCode);
        Assert.Contains("Terraform did not plan aws: the variables it was given do not fit the stack.", output);
        Assert.Contains("'domain_name' has no default (variables.tf line 16) and the tfvars do not set it", output);
        Assert.Contains("the tfvars set 'letsencrypt_email', which the stack does not declare", output);
        Assert.Contains($"./build.sh TfvarsUpload --environment beta --tfvars {tfvars}", output);
        Assert.DoesNotContain("exited with code", output);
        Assert.Empty(_terraform.CallsOf("show"));
    }

    [Fact]
    public async Task A_dry_run_apply_plans_without_the_lock_lists_the_destroys_first_and_applies_nothing()
    {
        CreateStack();
        var tfvars = Path.Combine(_root, "beta.tfvars");
        File.WriteAllText(tfvars, "environment = \"beta\"\n");
        _terraform.ShowJson = PlanFixtures.RenamedWithoutMovedBlocks;

        var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformApply", "--tfvars", tfvars, "--dry-run"), Environment(), _root);

        Assert.True(exitCode == 0, output);
        Assert.True(Assert.Single(_terraform.CallsOf("plan")).Has("-lock=false"));
        Assert.Empty(_terraform.CallsOf("apply"));
        var releasePlan = output[output.IndexOf("Release plan for beta:", StringComparison.Ordinal)..].Split('\n');
        Assert.Matches(@"terraform +4 to add, 0 to change, 3 to destroy \(1 replaced\)", releasePlan[1]);
        Assert.Contains(releasePlan, l => l.Contains("moved?", StringComparison.Ordinal) && l.Contains("add a moved block", StringComparison.Ordinal));
        Assert.Contains("[dry-run] would run:", output);
    }

    [Fact]
    public async Task TerraformDestroy_with_another_accounts_credentials_stops_before_any_terraform_call_naming_both_accounts()
    {
        CreateStack();
        var tfvars = Path.Combine(_root, "beta.tfvars");
        File.WriteAllText(tfvars, "environment = \"beta\"\n");

        // Tesslate's account is the default; moto's credentials live in 123456789012.
        var (exitCode, output) = await PipelineRun.RunAsync(["TerraformDestroy", "--environment", "beta", "--tfvars", tfvars, "--approve"], Environment(), _root);

        Assert.Equal(1, exitCode);
        Assert.Contains($"belong to account {MotoFixture.DefaultAccount}", output);
        Assert.Contains("lives in account 859561299901", output);
        Assert.Empty(_terraform.Calls);
    }

    [Fact]
    public async Task A_plan_file_from_another_run_cannot_be_applied_so_every_apply_gets_a_fresh_plan_and_its_approval()
    {
        CreateStack();
        var planFile = Path.Combine(_root, "old.tfplan");
        File.WriteAllText(planFile, "fake plan");

        var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformApply", "--plan-file", planFile, "--approve"), Environment(), _root);

        Assert.Equal(2, exitCode);
        Assert.Contains("Unknown option '--plan-file'", output);
        Assert.Empty(_terraform.Calls);
    }

    [Fact]
    public async Task TerraformDestroy_on_production_without_approve_is_refused_before_anything_runs()
    {
        CreateStack();
        var (exitCode, output) = await PipelineRun.RunAsync(["TerraformDestroy", "--environment", "production", "--aws-account-id", MotoFixture.DefaultAccount], Environment(), _root);

        Assert.Equal(2, exitCode);
        Assert.Contains("needs --approve as well as the typed confirmation", output);
        Assert.Empty(_terraform.Calls);
    }

    [Fact]
    public async Task TerraformDestroy_without_a_terminal_shows_the_destroy_plan_and_awaits_the_typed_confirmation()
    {
        var (exitCode, output) = await DestroyBetaAsync(terminal: null);

        Assert.Equal(1, exitCode);
        Assert.Contains("AwaitingApproval", output);
        Assert.Contains(_terraform.CallsOf("plan"), call => call.Has("-destroy"));
        Assert.Empty(_terraform.CallsOf("apply"));
    }

    [Fact]
    public async Task TerraformDestroy_refuses_a_wrong_typed_confirmation_even_with_approve()
    {
        var (exitCode, output) = await DestroyBetaAsync(new StringReader("destroy production\n"), "--approve");

        Assert.Equal(1, exitCode);
        Assert.Contains("Not approved (expected 'destroy beta', got 'destroy production')", output);
        Assert.Empty(_terraform.CallsOf("apply"));
    }

    [Fact]
    public async Task TerraformDestroy_applies_exactly_its_destroy_plan_after_the_typed_confirmation()
    {
        var (exitCode, output) = await DestroyBetaAsync(new StringReader("destroy beta\n"));

        Assert.True(exitCode == 0, output);
        Assert.Contains("Type 'destroy beta' to continue", output);
        var plan = Assert.Single(_terraform.CallsOf("plan"));
        Assert.True(plan.Has("-destroy"), plan.ToString());
        Assert.Equal(plan.Flag("-out"), Assert.Single(_terraform.CallsOf("apply")).Arguments[^1]);
    }

    [Fact]
    public async Task TerraformApply_for_beta_without_the_shared_stacks_ECR_repositories_says_to_apply_shared_first_and_plans_nothing()
    {
        CreateStack();
        var tfvars = Path.Combine(_root, "beta.tfvars");
        File.WriteAllText(tfvars, "environment = \"beta\"\n");
        _terraform.PlanExitCode = 2;
        // The repositories to look for come from the image catalog.
        Directory.CreateDirectory(Path.Combine(_root, "images"));
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "images")))
            File.Copy(file, Path.Combine(_root, "images", Path.GetFileName(file)));

        // No --registry: beta pulls from the ECR repositories of the shared stack, and this moto has none.
        var (exitCode, output) = await PipelineRun.RunAsync(["TerraformApply", "--environment", "beta", "--aws-account-id", MotoFixture.DefaultAccount, "--tfvars", tfvars, "--approve"], Environment(), _root);

        Assert.Equal(1, exitCode);
        Assert.Contains("The shared stack's ECR repositories are not there yet", output);
        Assert.Contains("run ./build.sh TerraformApply --environment shared first", output);
        Assert.Empty(_terraform.CallsOf("plan"));
        Assert.Empty(_terraform.CallsOf("apply"));
    }

    [Fact]
    public async Task Doctor_for_shared_checks_git_terraform_from_TERRAFORM_EXE_and_the_account_but_not_docker_or_kubectl()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["Doctor", "--environment", "shared", "--aws-account-id", MotoFixture.DefaultAccount], Environment(), _root);

        Assert.True(exitCode == 0, output);
        Assert.Matches(@"✔ terraform ≥ 1\.11 +1\.11\.4", output);
        Assert.Matches($@"✔ AWS account +{MotoFixture.DefaultAccount}", output);
        Assert.DoesNotContain("docker", output);
        Assert.DoesNotContain("kubectl", output);
        Assert.Single(_terraform.CallsOf("version"));
    }

    [Fact]
    public async Task Doctor_names_a_too_old_terraform_and_credentials_of_another_account_with_their_fixes()
    {
        _terraform.VersionJson = PlanFixtures.Version19;

        // Tesslate's account is the default; moto's credentials live in 123456789012.
        var (exitCode, output) = await PipelineRun.RunAsync(["Doctor", "--environment", "beta"], Environment(), _root);

        Assert.Equal(1, exitCode);
        Assert.Matches(@"✘ terraform ≥ 1\.11 +1\.9\.8 \(too old\)", output);
        Assert.Matches($@"✘ AWS account +{MotoFixture.DefaultAccount}", output);
        Assert.Contains("Use credentials for account 859561299901", output);
    }

    [Fact]
    public async Task The_cluster_name_output_replaces_the_environment_tables_for_the_later_targets_of_the_run_with_a_warning()
    {
        CreateStack();
        _terraform.OutputsJson = """{"cluster_name":{"sensitive":false,"type":"string","value":"tesslate-beta-eks-green"}}""";

        // Status runs after TerraformOutput and looks the cluster up by name; this moto has no clusters.
        var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformOutput", "Status"), Environment(), _root);

        Assert.Equal(1, exitCode);
        Assert.Contains("cluster_name is tesslate-beta-eks-green, the environment table says tesslate-beta-eks: later targets use tesslate-beta-eks-green", output);
        Assert.Contains("There is no cluster tesslate-beta-eks-green", output);
    }

    [Fact]
    public async Task An_explicit_cluster_name_wins_over_the_output_with_a_warning()
    {
        CreateStack();
        _terraform.OutputsJson = """{"cluster_name":{"sensitive":false,"type":"string","value":"tesslate-beta-eks-green"}}""";

        var (exitCode, output) = await PipelineRun.RunAsync(Args("TerraformOutput", "Status", "--cluster-name", "tesslate-beta-eks-blue"), Environment(), _root);

        Assert.Equal(1, exitCode);
        Assert.Contains("but --cluster-name is tesslate-beta-eks-blue: this run keeps tesslate-beta-eks-blue", output);
        Assert.Contains("There is no cluster tesslate-beta-eks-blue", output);
    }

    private Task<(int ExitCode, string Output)> DestroyBetaAsync(TextReader? terminal, params string[] extra)
    {
        CreateStack();
        var tfvars = Path.Combine(_root, "beta.tfvars");
        File.WriteAllText(tfvars, "environment = \"beta\"\n");
        _terraform.PlanExitCode = 2;
        return PipelineRun.RunAsync(Args(["TerraformDestroy", "--tfvars", tfvars, .. extra]), Environment(), _root, terminal);
    }

    public override ValueTask DisposeAsync()
    {
        _terraform.Dispose();
        Directory.Delete(_root, recursive: true);
        return base.DisposeAsync();
    }
}
