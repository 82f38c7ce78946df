using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Terraform;

/// <summary>The wrapper against FakeTerraform: argument lists, working directory, drift, plans, apply, failures.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TerraformCliTests : IDisposable
{
    private readonly TerraformTestBed _bed = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _bed.Dispose();

    [Fact]
    public async Task A_folder_without_a_backend_is_initialised_with_reconfigure_and_the_backend_file()
    {
        var backend = _bed.WriteBackend("beta");
        var cli = _bed.Cli();

        var drift = await cli.EnsureBackendAsync(backend, Ct);

        Assert.False(drift.Initialized);
        var init = Assert.Single(_bed.Fake.CallsOf("init"));
        Assert.Equal(_bed.StackDirectory, init.WorkingDirectory);
        Assert.Equal(["init", "-input=false", "-reconfigure", "-backend-config=" + backend], init.Arguments);
        Assert.DoesNotContain(_bed.Fake.Calls, c => c.Has("-migrate-state"));
        Assert.Equal(new LoadedBackend("s3", TerraformTestBed.Bucket, "beta/terraform.tfstate", TerraformTestBed.Region),
            BackendDrift.ReadLoaded(_bed.StackDirectory));
    }

    [Fact]
    public async Task A_folder_already_on_the_expected_backend_is_not_initialised_again()
    {
        var backend = _bed.WriteBackend("beta");
        await _bed.Cli().InitAsync(backend, Ct);

        var drift = await _bed.Cli().EnsureBackendAsync(backend, Ct);

        Assert.False(drift.NeedsInit);
        Assert.Single(_bed.Fake.CallsOf("init"));
    }

    [Theory]
    [InlineData("bucket")]
    [InlineData("key")]
    [InlineData("region")]
    public async Task A_backend_that_differs_in_any_one_field_is_reinitialised_and_the_field_reported(string field)
    {
        await _bed.Cli().InitAsync(_bed.WriteBackend("beta"), Ct);
        var changed = field switch
        {
            "bucket" => _bed.WriteBackend("beta", bucket: "another-state-bucket"),
            "key" => _bed.WriteBackend("beta", key: "production/terraform.tfstate"),
            _ => _bed.WriteBackend("beta", region: "eu-west-1"),
        };

        var drift = await _bed.Cli().EnsureBackendAsync(changed, Ct);

        Assert.Equal(field, Assert.Single(drift.Differences).Field);
        Assert.Equal(2, _bed.Fake.CallsOf("init").Count);
        Assert.False(BackendDrift.Compare(BackendConfig.Parse(File.ReadAllText(changed)), BackendDrift.ReadLoaded(_bed.StackDirectory)).NeedsInit);
        Assert.Contains(_bed.Log.Lines, l => l.Contains($"backend mismatch ({field}:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_reinit_shows_inits_output_and_the_drift()
    {
        var backend = _bed.WriteBackend("beta");
        _bed.Fake.FailOn("init", "Error: Failed to get existing workspaces: S3 bucket \"example-terraform-state\" does not exist. NoSuchBucket");

        var error = await Assert.ThrowsAsync<BuildFailure>(() => _bed.Cli().EnsureBackendAsync(backend, Ct));

        Assert.Contains("NoSuchBucket", error.Problem);
        Assert.Contains("no backend is initialised", error.Problem);
    }

    [Fact]
    public async Task A_missing_backend_file_fails_before_any_terraform_command_but_the_version_check()
    {
        var error = await Assert.ThrowsAsync<BuildFailure>(() => _bed.Cli().EnsureBackendAsync(Path.Combine(_bed.StackDirectory, "backend-beta.hcl"), Ct));

        Assert.Contains("Backend configuration not found", error.Problem);
        Assert.Equal(["version"], _bed.Fake.Calls.Select(c => c.Command));
    }

    [Fact]
    public async Task A_plan_that_changes_only_outputs_is_applied_as_terraform_counts_it_a_change()
    {
        _bed.Fake.PlanExitCode = 2;
        _bed.Fake.ShowJson = """{"format_version":"1.2","resource_changes":[],"output_changes":{"cluster_name":{"actions":["update"]}}}""";
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);

        var plan = await cli.PlanAsync(new PlanOptions(), Ct);
        var applied = await cli.ApplyAsync(plan, Ct);

        Assert.True(plan.HasChanges);
        Assert.Equal(["cluster_name"], plan.Summary.OutputChanges);
        Assert.True(applied);
        Assert.Single(_bed.Fake.CallsOf("apply"));
    }

    [Fact]
    public async Task A_plan_without_changes_is_never_applied()
    {
        _bed.Fake.PlanExitCode = 0;
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);

        var plan = await cli.PlanAsync(new PlanOptions(), Ct);
        var applied = await cli.ApplyAsync(plan, Ct);

        Assert.False(plan.HasChanges);
        Assert.False(applied);
        Assert.Empty(_bed.Fake.CallsOf("apply"));
        Assert.Empty(_bed.Fake.CallsOf("show"));
    }

    [Fact]
    public async Task Apply_applies_exactly_the_plan_file_that_plan_wrote()
    {
        var tfvars = _bed.WriteTfvars("environment = \"beta\"\n");
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);

        var plan = await cli.PlanAsync(new PlanOptions { VarFile = tfvars, Targets = ["module.eks"] }, Ct);
        var applied = await cli.ApplyAsync(plan, Ct);

        Assert.True(applied);
        var planCall = Assert.Single(_bed.Fake.CallsOf("plan"));
        Assert.True(planCall.Has("-detailed-exitcode"));
        Assert.True(planCall.Has("-input=false"));
        Assert.Equal(tfvars, planCall.Flag("-var-file"));
        Assert.Equal("module.eks", planCall.Flag("-target"));
        Assert.Equal(plan.PlanFile, planCall.Flag("-out"));
        var applyCall = Assert.Single(_bed.Fake.CallsOf("apply"));
        Assert.Equal(["apply", "-input=false", plan.PlanFile], applyCall.Arguments);
        Assert.Equal([plan.PlanFile], _bed.Fake.AppliedPlanFiles);
        Assert.Equal(3, plan.Summary.ToDestroy);
        Assert.True(plan.Summary.HasDestroyOrReplace);
    }

    [Fact]
    public async Task The_plan_file_and_its_json_live_in_a_private_folder_that_dispose_removes_even_after_a_failing_apply()
    {
        var tfvars = _bed.WriteTfvars("environment = \"beta\"\n");
        _bed.Fake.FailAfterApply();
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        var plan = await cli.PlanAsync(new PlanOptions { VarFile = tfvars }, Ct);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(cli.Workspace.Directory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(plan.PlanFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cli.Workspace.PlanJsonFile));
        Assert.Contains(PlanFixtures.DatabasePassword, File.ReadAllText(cli.Workspace.PlanJsonFile));
        var fetched = cli.Workspace.WriteFile("fetched.tfvars", "environment = \"beta\"\n");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(fetched));

        await Assert.ThrowsAsync<ProcessFailedException>(() => cli.ApplyAsync(plan, Ct));
        cli.Dispose();

        Assert.False(Directory.Exists(cli.Workspace.Directory));
        Assert.False(File.Exists(fetched), "tfvars this run fetched into the workspace go with it");
        Assert.True(File.Exists(tfvars), "a tfvars file given by the user is only read, never deleted");
    }

    [Fact]
    public async Task Plan_output_in_the_log_never_contains_the_plan_json()
    {
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);

        await cli.PlanAsync(new PlanOptions(), Ct);

        Assert.Contains(_bed.Log.Lines, l => l.Contains("3 to add, 1 to change, 3 to destroy", StringComparison.Ordinal));
        Assert.DoesNotContain(_bed.Log.Lines, l => l.Contains(PlanFixtures.DatabasePassword, StringComparison.Ordinal));
        Assert.DoesNotContain(_bed.Log.Lines, l => l.Contains("resource_changes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_plan_is_a_failure_with_terraforms_error()
    {
        _bed.Fake.PlanExitCode = 1;
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);

        var error = await Assert.ThrowsAsync<ProcessFailedException>(() => cli.PlanAsync(new PlanOptions(), Ct));

        Assert.Contains("Invalid value for variable", error.Problem);
        Assert.Empty(_bed.Fake.CallsOf("apply"));
    }

    [Fact]
    public async Task In_ci_every_command_gets_no_color_and_tf_in_automation_and_locking_commands_the_lock_timeout()
    {
        var cli = _bed.Cli(s => s with { InCi = true, LockTimeout = TimeSpan.FromMinutes(5) });
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        var plan = await cli.PlanAsync(new PlanOptions(), Ct);
        await cli.ApplyAsync(plan, Ct);

        foreach (var call in _bed.Fake.Calls.Where(c => c.Command is "init" or "plan" or "apply"))
        {
            Assert.True(call.Has("-no-color"), call.ToString());
            Assert.True(call.Has("-input=false"), call.ToString());
            Assert.Equal("300s", call.Flag("-lock-timeout"));
        }
        Assert.Equal(_bed.Fake.Calls.Count, _bed.Fake.AutomationEnvironment.Count);
        Assert.All(_bed.Fake.AutomationEnvironment, line => Assert.Equal("TF_IN_AUTOMATION=1", line));
    }

    [Fact]
    public async Task Outside_ci_there_is_no_no_color_and_no_tf_in_automation()
    {
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        await cli.PlanAsync(new PlanOptions(), Ct);

        Assert.DoesNotContain(_bed.Fake.Calls, c => c.Has("-no-color"));
        Assert.Empty(_bed.Fake.AutomationEnvironment);
    }

    [Fact]
    public async Task A_missing_terraform_is_a_missing_prerequisite_naming_the_minimum_version()
    {
        var cli = _bed.Cli(s => s with { Executable = Path.Combine(_bed.Fake.Directory, "no-such-terraform") });

        var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => cli.PlanAsync(new PlanOptions(), Ct));

        Assert.Contains("Terraform was not found", error.Problem);
        Assert.Contains("1.11 or newer", error.Fix);
    }

    [Fact]
    public async Task A_missing_stack_folder_is_named_before_terraform_runs()
    {
        var cli = _bed.Cli(s => s with { StackDirectory = Path.Combine(_bed.StackDirectory, "no-such-stack") });

        var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => cli.OutputAsync(Ct));

        Assert.Contains("no-such-stack", error.Problem);
        Assert.Empty(_bed.Fake.Calls);
    }

    [Fact]
    public async Task Terraform_1_9_stops_the_run_before_any_other_command()
    {
        _bed.Fake.VersionJson = PlanFixtures.Version19;
        var backend = _bed.WriteBackend("beta");

        var error = await Assert.ThrowsAsync<BuildFailure>(() => _bed.Cli().EnsureBackendAsync(backend, Ct));

        Assert.Contains("Terraform 1.9.8", error.Problem);
        Assert.Contains("1.11", error.Problem);
        Assert.Contains("Upgrade", error.Fix);
        Assert.Equal(["version"], _bed.Fake.Calls.Select(c => c.Command));
    }

    [Fact]
    public async Task The_version_is_checked_once_per_stack()
    {
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        await cli.PlanAsync(new PlanOptions(), Ct);

        Assert.Single(_bed.Fake.CallsOf("version"));
        Assert.Equal(["-json"], _bed.Fake.CallsOf("version")[0].Arguments[1..]);
    }

    [Fact]
    public async Task A_lock_held_by_someone_else_shows_terraforms_lock_info_the_timeout_and_how_to_unlock()
    {
        var cli = _bed.Cli(s => s with { LockTimeout = TimeSpan.FromMinutes(5) });
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        _bed.Fake.HoldLock();

        var error = await Assert.ThrowsAsync<BuildFailure>(() => cli.PlanAsync(new PlanOptions(), Ct));

        Assert.Equal("300s", _bed.Fake.CallsOf("plan")[0].Flag("-lock-timeout"));
        Assert.Contains("locked by another run", error.Problem);
        Assert.Contains("after waiting 5m", error.Problem);
        Assert.Contains("Who:       alice@laptop", error.Problem);
        Assert.Contains("terraform force-unlock 8a1e2a4c-3b7d-4f7e-9a43-1f0c2d6e5b19", error.Fix);
    }

    [Fact]
    public async Task A_stale_saved_plan_is_explained_with_the_fix()
    {
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        var plan = await cli.PlanAsync(new PlanOptions(), Ct);
        _bed.Fake.MakePlansStale();

        var error = await Assert.ThrowsAsync<BuildFailure>(() => cli.ApplyAsync(plan, Ct));

        Assert.Contains("Saved plan is stale", error.Problem);
        Assert.Contains("Nothing was applied", error.Problem);
        Assert.Contains("./build.sh TerraformPlan --environment beta", error.Fix);
    }

    [Fact]
    public async Task Ctrl_c_during_apply_sends_exactly_one_interrupt_waits_for_terraform_and_says_how_to_check()
    {
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        var plan = await cli.PlanAsync(new PlanOptions(), Ct);
        _bed.Fake.WaitForInterruptDuringApply();
        using var ctrlC = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var apply = cli.ApplyAsync(plan, ctrlC.Token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!_bed.Fake.ApplyStarted && DateTime.UtcNow < deadline && !apply.IsCompleted)
            await Task.Delay(20, Ct);
        Assert.True(_bed.Fake.ApplyStarted, "the fake apply never started");
        ctrlC.Cancel();
        var error = await Assert.ThrowsAsync<BuildFailure>(() => apply);

        Assert.Equal(1, _bed.Fake.InterruptsReceived);
        Assert.True(_bed.Fake.ApplyFinishedGracefully, "terraform must be waited for, not killed");
        Assert.Equal(ExitCodes.Interrupted, error.ExitCode);
        Assert.Contains("partially", error.Problem);
        Assert.Contains("./build.sh TerraformPlan --environment beta", error.Fix);
        cli.Dispose();
        Assert.False(File.Exists(plan.PlanFile), "the plan file is deleted after Ctrl-C too");
    }

    [Fact]
    public void Commands_that_hold_the_state_lock_are_waited_for_on_cancel_and_the_rest_are_not()
    {
        var cli = _bed.Cli();

        Assert.True(cli.ApplyCommand("/tmp/p.tfplan").WaitForExitOnCancel);
        Assert.True(cli.PlanCommand(new PlanOptions(), "/tmp/p.tfplan").WaitForExitOnCancel);
        Assert.True(cli.DestroyCommand(new PlanOptions()).WaitForExitOnCancel);
        Assert.Equal([0, 2], cli.PlanCommand(new PlanOptions(), "/tmp/p.tfplan").AllowedExitCodes);
    }

    [Fact]
    public async Task Outputs_are_parsed_and_sensitive_values_become_secrets()
    {
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        _bed.Fake.OutputsJson = """
            {"cluster_name":{"sensitive":false,"type":"string","value":"example-beta-eks"},
             "db_url":{"sensitive":true,"type":"string","value":"postgres://u:sensitive-output-pw-31@db/x"},
             "azs":{"sensitive":false,"type":["list","string"],"value":["a","b"]}}
            """;

        var outputs = await cli.OutputAsync(Ct);

        Assert.Equal("example-beta-eks", outputs.GetString("cluster_name"));
        Assert.Equal(SecretRegistry.Mask, Secrets.Redact("postgres://u:sensitive-output-pw-31@db/x"));
        Assert.Equal(["output", "-json"], _bed.Fake.CallsOf("output")[0].Arguments);
        Assert.DoesNotContain(_bed.Log.Lines, l => l.Contains("sensitive-output-pw-31", StringComparison.Ordinal));
        var missing = Assert.Throws<BuildFailure>(() => outputs.GetString("domain"));
        Assert.Contains("cluster_name", missing.Problem);
    }

    [Fact]
    public async Task State_commands_are_argument_lists_and_rm_takes_the_lock_timeout()
    {
        var cli = _bed.Cli(s => s with { LockTimeout = TimeSpan.FromSeconds(90) });
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        File.WriteAllText(Path.Combine(_bed.Fake.Directory, "state-list.txt"), "aws_vpc.main\nmodule.eks.aws_eks_cluster.this\n");

        var addresses = await cli.StateListAsync(Ct);
        await cli.StateShowAsync("aws_vpc.main", Ct);
        await cli.StateRemoveAsync(["kubernetes_secret.app[\"api key\"]"], Ct);

        Assert.Equal(["aws_vpc.main", "module.eks.aws_eks_cluster.this"], addresses);
        Assert.Equal(["state", "list"], _bed.Fake.Calls.Single(c => c.Has("list")).Arguments);
        Assert.Equal(["state", "show", "aws_vpc.main"], _bed.Fake.Calls.Single(c => c.Has("show")).Arguments);
        Assert.Equal(["state", "rm", "-lock-timeout=90s", "kubernetes_secret.app[\"api key\"]"], _bed.Fake.Calls.Single(c => c.Has("rm")).Arguments);
    }

    [Fact]
    public async Task Destroy_auto_approves_after_the_callers_confirmation_with_var_file_and_targets()
    {
        var tfvars = _bed.WriteTfvars("environment = \"beta\"\n");
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);

        await cli.DestroyAsync(new PlanOptions { VarFile = tfvars, Targets = ["module.eks"] }, Ct);

        Assert.Equal(["destroy", "-input=false", "-var-file=" + tfvars, "-target=module.eks", "-auto-approve"], _bed.Fake.CallsOf("destroy")[0].Arguments);
    }

    [Fact]
    public async Task A_destroy_plan_is_a_plan_with_destroy_whose_summary_can_be_shown_first()
    {
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);

        var plan = await cli.PlanAsync(new PlanOptions { Destroy = true }, Ct);

        Assert.True(_bed.Fake.CallsOf("plan")[0].Has("-destroy"));
        Assert.True(plan.Summary.HasDestroyOrReplace);
    }

    [Fact]
    public async Task Under_dry_run_without_preview_only_the_version_check_runs_and_the_plan_reports_no_changes()
    {
        var cli = _bed.Cli(dryRun: true);

        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        var plan = await cli.PlanAsync(new PlanOptions(), Ct);

        Assert.True(plan.WasDryRun);
        Assert.False(await cli.ApplyAsync(plan, Ct));
        Assert.Equal(["version"], _bed.Fake.Calls.Select(c => c.Command));
    }

    [Fact]
    public async Task A_preview_initialises_and_plans_without_the_state_lock_shows_what_it_destroys_and_never_applies()
    {
        var cli = _bed.Cli(s => s with { Preview = true, LockTimeout = TimeSpan.FromMinutes(5) }, dryRun: true);
        _bed.Fake.ShowJson = PlanFixtures.RenamedWithoutMovedBlocks;

        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);
        var plan = await cli.PlanAsync(new PlanOptions(), Ct);
        var applied = await cli.ApplyAsync(plan, Ct);

        Assert.Equal(["version", "init", "plan", "show"], _bed.Fake.Calls.Select(c => c.Command));
        var call = _bed.Fake.CallsOf("plan")[0];
        Assert.True(call.Has("-lock=false"));
        Assert.Null(call.Flag("-lock-timeout"));
        Assert.True(plan.IsPreview && plan.HasChanges && plan.Summary.HasDestroyOrReplace);
        Assert.Contains(plan.Summary.MoveHints, h => h.Destroyed == "aws_ecr_repository.backend");
        Assert.False(applied);
        Assert.Contains(_bed.Log.Lines, l => l.Contains("[dry-run] would run:", StringComparison.Ordinal) && l.Contains(" apply ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pipeline_variables_follow_the_tfvars_file_so_they_win()
    {
        var backend = _bed.WriteBackend("beta");
        var tfvars = _bed.WriteTfvars("environment = \"beta\"\n");
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(backend, Ct);

        await cli.PlanAsync(new PlanOptions { VarFile = tfvars, Variables = new Dictionary<string, string> { ["aws_account_id"] = "123456789012", ["terraform_state_bucket"] = "state" } }, Ct);

        var arguments = _bed.Fake.CallsOf("plan")[0].Arguments.ToList();
        var file = arguments.IndexOf("-var-file=" + tfvars);
        Assert.True(file > 0);
        Assert.Equal(["-var=aws_account_id=123456789012", "-var=terraform_state_bucket=state"], arguments.Skip(file + 1).Take(2));
    }

    private const string DeclaredVariables = """
        variable "environment" {
          type    = string
          default = "production"
        }

        variable "aws_account_id" {
          type    = string
          default = "859561299901"
        }

        variable "domain_name" {
          type = string
        }
        """;

    [Fact]
    public async Task Tfvars_values_the_stack_does_not_declare_are_named_each_even_those_terraform_only_counts()
    {
        File.WriteAllText(Path.Combine(_bed.StackDirectory, "variables.tf"), DeclaredVariables);
        var tfvars = _bed.WriteTfvars("environment = \"beta\"\ndomain_name = \"beta.example.com\"\nletsencrypt_email = \"a@b\"\napp_extra_secrets = {\n  X = \"y\"\n}\ngithub_repository = \"o/r\"\n");
        var cli = _bed.Cli();
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);

        var plan = await cli.PlanAsync(new PlanOptions { VarFile = tfvars, Variables = new Dictionary<string, string> { ["aws_account_id"] = "123456789012" } }, Ct);

        Assert.True(plan.HasChanges);
        Assert.Equal(["app_extra_secrets", "github_repository", "letsencrypt_email"], plan.VariableProblems.Select(p => p.Variable).Order(StringComparer.Ordinal));
        Assert.All(plan.VariableProblems, p => Assert.Equal(VariableProblemKind.Undeclared, p.Kind));
        Assert.Equal(3, _bed.Log.Lines.Count(l => l.Contains("which the stack does not declare", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_variable_nothing_sets_and_a_pipeline_variable_the_stack_lacks_stop_the_plan_naming_each_and_the_fix()
    {
        File.WriteAllText(Path.Combine(_bed.StackDirectory, "variables.tf"), DeclaredVariables.Replace("aws_account_id", "account", StringComparison.Ordinal));
        var tfvars = _bed.WriteTfvars("environment = \"beta\"\ndomain = \"beta.example.com\"\n");
        var cli = _bed.Cli(s => s with { TfvarsFixCommand = "./build.sh TfvarsDownload --environment beta, edit it, ./build.sh TfvarsUpload --environment beta" });
        await cli.EnsureBackendAsync(_bed.WriteBackend("beta"), Ct);

        var failure = await Assert.ThrowsAsync<BuildFailure>(() => cli.PlanAsync(
            new PlanOptions { VarFile = tfvars, Variables = new Dictionary<string, string> { ["aws_account_id"] = "123456789012" } }, Ct));

        Assert.IsNotType<ProcessFailedException>(failure);
        Assert.Contains("'domain_name' has no default (variables.tf line 11) and the tfvars do not set it", failure.Problem, StringComparison.Ordinal);
        Assert.Contains("the pipeline passes -var aws_account_id, which the stack does not declare", failure.Problem, StringComparison.Ordinal);
        Assert.Contains("the tfvars set 'domain', which the stack does not declare", failure.Problem, StringComparison.Ordinal);
        Assert.Contains("Set domain_name in the tfvars: ./build.sh TfvarsDownload --environment beta", failure.Fix, StringComparison.Ordinal);
        Assert.Contains("renamed variable", failure.Fix, StringComparison.Ordinal);
        Assert.Contains("Declare aws_account_id in the stack", failure.Fix, StringComparison.Ordinal);
        Assert.Empty(_bed.Fake.CallsOf("show"));
    }
}
