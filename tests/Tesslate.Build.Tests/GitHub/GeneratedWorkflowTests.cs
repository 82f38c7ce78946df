using System.Text.RegularExpressions;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Engine.Workflows;
using Tesslate.Build.GitHub;
using Tesslate.Build.Platform;
using Xunit;

namespace Tesslate.Build.Tests.GitHub;

public sealed partial class GeneratedWorkflowTests(WorkflowParserFixture parser) : IClassFixture<WorkflowParserFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("generated-workflows-").FullName;
    private readonly WorkflowFiles _files = new(PipelineWorkflows.Header);
    private readonly IReadOnlyList<Workflow> _workflows = PipelineWorkflows.All(new WorkflowSettings(), BuildParameters.DeployInputs);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<string> GenerateAsync(string fileName)
    {
        await _files.WriteAsync(_directory, _workflows, Ct);
        return Path.Combine(_directory, fileName);
    }

    [Fact]
    public async Task Every_generated_workflow_passes_GitHubs_own_parser()
    {
        await _files.WriteAsync(_directory, _workflows, Ct);
        var files = Directory.GetFiles(_directory, "*.yml").Order().ToList();
        Assert.Equal(["ci.yml", "deploy.yml"], files.Select(Path.GetFileName));
        var problems = await parser.Parser.ParseAsync(files, Ct);
        Assert.Empty(problems);
    }

    [Fact]
    public async Task The_parser_reports_problems_with_file_line_and_column()
    {
        var path = await GenerateAsync("deploy.yml");
        var text = await File.ReadAllTextAsync(path, Ct);
        await File.WriteAllTextAsync(path, text.Replace("type: choice", "type: choise", StringComparison.Ordinal).Replace("needs: build-images", "needs: build-imagez", StringComparison.Ordinal), Ct);

        var problems = await parser.Parser.ParseAsync([path], Ct);
        var lines = text.Split('\n');
        var choiceLine = Array.FindIndex(lines, l => l.Contains("type: choice", StringComparison.Ordinal)) + 1;
        Assert.Contains(problems, p => p.Message == "Unexpected value 'choise'" && p.Line == choiceLine && p.Column > 1);
        Assert.Contains(problems, p => p.Message.Contains("depends on unknown job 'build-imagez'", StringComparison.Ordinal));
        var failure = await Assert.ThrowsAsync<BuildFailure>(() => parser.Parser.ValidateAsync([path], Ct));
        Assert.Contains($"deploy.yml:{choiceLine}:", failure.Problem);
    }

    [Fact]
    public async Task A_missing_parser_installation_names_the_install_command()
    {
        var empty = Directory.CreateTempSubdirectory("no-parser-").FullName;
        try
        {
            var missing = new ActionsWorkflowParser(parser.Runner, empty);
            var file = await GenerateAsync("ci.yml");
            var failure = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => missing.ParseAsync([file], Ct));
            Assert.Contains("npm ci --prefix", failure.Fix);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task The_drift_check_fails_on_an_edited_file_and_passes_after_regeneration()
    {
        var path = await GenerateAsync("deploy.yml");
        await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path, Ct)).Replace("cancel-in-progress: false", "cancel-in-progress: true", StringComparison.Ordinal), Ct);

        var drift = Assert.Single(await _files.CheckAsync(_directory, _workflows, Ct));
        Assert.Equal(("deploy.yml", DriftStatus.Different), (drift.FileName, drift.Status));
        Assert.Contains("-  cancel-in-progress: true\n+  cancel-in-progress: false\n", drift.Diff);
        var failure = await Assert.ThrowsAsync<BuildFailure>(() => _files.EnsureUpToDateAsync(_directory, _workflows, PipelineWorkflows.RegenerateCommand, new LogCapture().Logger, Ct));
        Assert.Contains("deploy.yml (different)", failure.Problem);

        await _files.WriteAsync(_directory, _workflows, Ct);
        Assert.Empty(await _files.CheckAsync(_directory, _workflows, Ct));
    }

    [Fact]
    public void Deploy_dispatch_inputs_are_the_builds_parameters_with_their_types_descriptions_and_choices()
    {
        var inputs = PipelineWorkflows.Deploy(new WorkflowSettings(), BuildParameters.DeployInputs).On.WorkflowDispatch!.Inputs;
        Assert.Equal(["environment", "application-ref", "images", "force-build"], inputs.Select(i => i.Name));
        Assert.Equal([WorkflowInputType.Choice, WorkflowInputType.String, WorkflowInputType.String, WorkflowInputType.Boolean], inputs.Select(i => i.Type));
        Assert.Equal(["beta", "production"], inputs[0].Options);
        Assert.Equal("beta", inputs[0].Default);
        // The application's main branch when nothing else is asked for (the parameter itself has no default: a laptop's
        // source root already has a commit checked out).
        Assert.Equal(("main", true), (inputs[1].Default, inputs[1].Required));
        Assert.Equal("--application-ref", BuildParameters.All.Single(p => p.MemberName == "ApplicationRef").Flag);

        foreach (var input in _workflows.SelectMany(w => w.On.WorkflowDispatch?.Inputs ?? []))
        {
            var parameter = BuildParameters.All.SingleOrDefault(p => p.Name == input.Name);
            Assert.True(parameter is not null, $"Dispatch input '{input.Name}' is no parameter of the Build.");
            Assert.Equal((input.Type, input.Description), (WorkflowInput.ForParameter(parameter).Type, parameter.Description));
            Assert.All(input.Options, option => Assert.Contains(option, parameter.AllowedValues!));
        }
    }

    [Fact]
    public void Every_flag_of_a_build_step_is_a_real_parameter_and_every_input_reaches_the_build_as_its_own_flag()
    {
        foreach (var workflow in _workflows)
        {
            var steps = workflow.Jobs.SelectMany(j => j.Steps).Where(s => s.Run?.Contains("./build.sh", StringComparison.Ordinal) == true).ToList();
            foreach (var flag in steps.SelectMany(s => FlagPattern().Matches(s.Run!)).Select(m => m.Groups["name"].Value))
                Assert.True(BuildParameters.All.Any(p => p.Name == flag), $"{workflow.FileName} passes --{flag}, which is no parameter of the Build.");

            // Each input is read through a variable (workflow or step env) that a build step passes after the input's own flag.
            // The application ref is the exception: resolved once by the build job's first step, it reaches the build as
            // that step's SHA (next test).
            foreach (var input in (workflow.On.WorkflowDispatch?.Inputs ?? []).Where(i => i.Name != BuildParameters.DeployInputs.ApplicationRef.Name))
            {
                Assert.Contains(steps, step => workflow.Env.Concat(step.Env)
                    .Any(variable => variable.Value.Contains($"inputs.{input.Name} ", StringComparison.Ordinal)
                        && Regex.IsMatch(step.Run!, $"--{input.Name}( \"\\${variable.Key}\"|\\))")));
            }
            var referenced = Regex.Matches(WorkflowYamlWriter.Write(workflow, PipelineWorkflows.Header), "inputs\\.(?<name>[a-z-]+)").Select(m => m.Groups["name"].Value);
            Assert.All(referenced, name => Assert.Contains(name, workflow.On.WorkflowDispatch!.Inputs.Select(i => i.Name)));
        }
    }

    private sealed class RenamedParameters
    {
        [Parameter("Where to go.")] public readonly DeployEnvironment Stage = DeployEnvironment.Local;
        [Parameter("Which application commit.")] public readonly string? Revision;
        [Parameter("Rebuild everything.")] public readonly bool Rebuild;
    }

    [Fact]
    public void Renamed_parameters_rename_the_inputs_and_the_flags_that_carry_them()
    {
        var parameters = ParameterBinder.Discover(new RenamedParameters(), "X_");
        var deploy = PipelineWorkflows.Deploy(new WorkflowSettings(), new DeployInputs(parameters[0], parameters[1], [parameters[2]]));
        var yaml = WorkflowYamlWriter.Write(deploy, PipelineWorkflows.Header);

        Assert.Equal(["stage", "revision", "rebuild"], deploy.On.WorkflowDispatch!.Inputs.Select(i => i.Name));
        Assert.Contains("group: deploy-${{ inputs.stage || 'beta' }}", yaml);
        Assert.Contains("args+=(--rebuild)", yaml);
        Assert.Contains("REBUILD: ${{ inputs.rebuild }}", yaml);
        Assert.Contains("./build.sh Deploy --stage \"$DEPLOY_ENVIRONMENT\" --revision \"$APPLICATION_COMMIT\"", yaml);
        Assert.Contains("APPLICATION_REF: ${{ inputs.revision || 'main' }}", yaml);
        Assert.Contains("run-name: Deploy ${{ inputs.revision || 'main' }} to ${{ inputs.stage || 'beta' }}", yaml);
        Assert.DoesNotContain("inputs.environment", yaml);
        Assert.DoesNotContain("inputs.application-ref", yaml);
        Assert.Empty(WorkflowValidator.Problems(deploy));
    }

    private static Job DeployJob(string id) => PipelineWorkflows.Deploy(new WorkflowSettings(), BuildParameters.DeployInputs).Jobs.Single(j => j.Id == id);

    private static bool ChecksOutTheApplication(Step step) =>
        step.Uses == PinnedActions.Checkout.Uses && step.With.TryGetValue("repository", out var repository) && repository.Contains("APPLICATION_REPOSITORY", StringComparison.Ordinal);

    /// <summary>The one variable a step's script passes after <paramref name="flag"/>, and the expression that variable holds.</summary>
    private static string FlagExpression(Step step, string flag)
    {
        var variable = Regex.Match(step.Run!, $"{Regex.Escape(flag)} \"\\$(?<name>[A-Z_]+)\"").Groups["name"].Value;
        Assert.True(variable.Length > 0, $"'{step.Name}' does not pass {flag} \"$VARIABLE\": {step.Run}");
        return step.Env[variable];
    }

    [Fact]
    public void The_deploy_job_works_on_the_commit_the_build_job_resolved_never_on_a_ref()
    {
        var build = DeployJob(PipelineWorkflows.BuildJob);
        var deploy = DeployJob("deploy");
        var flag = BuildParameters.DeployInputs.ApplicationRef.Flag;

        // The build job hands on exactly what its first step resolved.
        var resolve = build.Steps[0];
        Assert.Equal(PipelineWorkflows.ResolveStepId, resolve.Id);
        var resolved = $"${{{{ steps.{resolve.Id}.outputs.{PipelineWorkflows.ApplicationCommitOutput} }}}}";
        Assert.Equal(resolved, build.Outputs[PipelineWorkflows.ApplicationCommitOutput]);
        Assert.Equal(resolved, Assert.Single(build.Steps, ChecksOutTheApplication).With["ref"]);

        // The deploy job needs the build job and reads the SHA from its outputs: a checkout of the application (it needs
        // none) could only be at that SHA, and the pipeline gets it as --application-ref.
        var handedOver = $"${{{{ needs.{PipelineWorkflows.BuildJob}.outputs.{PipelineWorkflows.ApplicationCommitOutput} }}}}";
        Assert.Contains(PipelineWorkflows.BuildJob, deploy.Needs);
        Assert.All(deploy.Steps.Where(ChecksOutTheApplication), step => Assert.Equal(handedOver, step.With["ref"]));
        var deployStep = Assert.Single(deploy.Steps, s => s.Run?.StartsWith("./build.sh Deploy", StringComparison.Ordinal) == true);
        Assert.Equal(handedOver, FlagExpression(deployStep, flag));
        Assert.Equal(handedOver, PipelineWorkflows.ResolvedApplicationCommit);

        // No ref is read after the first step: no repository variable, no input, no branch name.
        var yaml = WorkflowYamlWriter.Write(PipelineWorkflows.Deploy(new WorkflowSettings(), BuildParameters.DeployInputs), PipelineWorkflows.Header);
        Assert.DoesNotContain("vars.APPLICATION_REF", yaml);
        Assert.All(build.Steps.Skip(1).Concat(deploy.Steps), step => Assert.DoesNotContain(step.Env.Values.Concat(step.With.Values), v => v.Contains("inputs.application-ref", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_application_ref_input_reaches_the_first_step_and_the_build_gets_the_resolved_sha_with_the_parameters_flag()
    {
        var build = DeployJob(PipelineWorkflows.BuildJob);
        var input = BuildParameters.DeployInputs.ApplicationRef;
        var resolve = build.Steps[0];

        Assert.Equal($"${{{{ inputs.{input.Name} || 'main' }}}}", resolve.Env["APPLICATION_REF"]);
        Assert.DoesNotContain("inputs.", resolve.Run, StringComparison.Ordinal);
        var buildStep = Assert.Single(build.Steps, s => s.Run?.Contains("./build.sh", StringComparison.Ordinal) == true);
        Assert.Equal($"${{{{ steps.{resolve.Id}.outputs.{PipelineWorkflows.ApplicationCommitOutput} }}}}", FlagExpression(buildStep, input.Flag));
        // The run's name says what was asked for (run-name cannot see job outputs).
        Assert.Contains($"inputs.{input.Name} || 'main'", PipelineWorkflows.Deploy(new WorkflowSettings(), BuildParameters.DeployInputs).RunName);
    }

    [GeneratedRegex("(?<![\\w-])--(?<name>[a-z][a-z0-9-]*)")]
    private static partial Regex FlagPattern();

    [Fact]
    public async Task Deploy_yaml_gates_the_deploy_job_with_least_privilege_and_OIDC()
    {
        var yaml = await File.ReadAllTextAsync(await GenerateAsync("deploy.yml"), Ct);
        var deploy = yaml[yaml.IndexOf("\n  deploy:\n", StringComparison.Ordinal)..];
        var build = yaml[yaml.IndexOf("\n  build-images:\n", StringComparison.Ordinal)..yaml.IndexOf("\n  deploy:\n", StringComparison.Ordinal)];

        Assert.Contains("\npermissions: {}\n", yaml);
        Assert.Contains("concurrency:\n  group: deploy-${{ inputs.environment || 'beta' }}\n  cancel-in-progress: false\n", yaml);
        Assert.Contains("    needs: build-images\n", deploy);
        // Reviewers gate the job; the pipeline, not GitHub, creates the deployment (it names the application commit).
        Assert.Contains("    environment:\n      name: ${{ inputs.environment || 'beta' }}\n      url: ${{ vars.ENVIRONMENT_URL }}\n      deployment: false\n", deploy);
        Assert.Contains("    permissions:\n      contents: read\n      deployments: write\n      id-token: write\n", deploy);
        Assert.Contains("    timeout-minutes: 45\n", deploy);
        Assert.DoesNotContain("deployments: write", build);
        Assert.Contains("id-token: write", build);
        Assert.Contains("role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}", deploy);
        // Only the deploy job is gated; the build job still assumes the chosen environment's role, not a shared one.
        Assert.DoesNotContain("\n    environment:", build);
        Assert.Contains("role-to-assume: ${{ vars[format('AWS_BUILD_ROLE_ARN_{0}', inputs.environment || 'beta')] }}", build);
        Assert.DoesNotContain("AWS_DEPLOY_ROLE_ARN", build);
        Assert.DoesNotContain("aws-access-key-id", yaml);
        Assert.Contains("--build-report build-report/build-report.json --skip BuildImages --approve", deploy);
        Assert.DoesNotContain("--approve", build);
        Assert.Contains("refs/heads/main", build);
        Assert.Contains("terraform_version: '>=1.5.0'", deploy);
    }

    [Fact]
    public async Task Ci_yaml_checks_drift_and_dry_runs_both_environments_without_AWS_credentials()
    {
        var yaml = await File.ReadAllTextAsync(await GenerateAsync("ci.yml"), Ct);
        Assert.Contains("pull_request:", yaml);
        Assert.Contains("global-json-file: global.json", yaml);
        Assert.Contains("run: ./build.sh GenerateWorkflows --check\n", yaml);
        Assert.Contains("'moto[server]'", yaml);
        Assert.Contains("        environment:\n          - beta\n          - production\n", yaml);
        Assert.Contains("--dry-run", yaml);
        Assert.DoesNotContain("configure-aws-credentials", yaml);
        Assert.DoesNotContain("id-token", yaml);
    }

    [Fact]
    public void Every_action_is_pinned_to_a_full_commit_with_its_tag()
    {
        var uses = _workflows.SelectMany(w => w.Jobs).SelectMany(j => j.Steps).Where(s => s.Uses is not null).ToList();
        Assert.NotEmpty(uses);
        Assert.All(uses, step => Assert.Matches("^[a-z-]+/[a-z-]+@[0-9a-f]{40}$", step.Uses!));
        Assert.All(uses, step => Assert.Matches("^v\\d+\\.\\d+\\.\\d+$", step.UsesComment!));
        Assert.Equal(PinnedActions.All.Count, PinnedActions.All.Select(a => a.Repository).Distinct().Count());
    }

    [Theory]
    [InlineData(">= 1.5.0", ">=1.5.0")]
    [InlineData("~> 1.5", "^1.5")]
    [InlineData("~> 1.9.0", "~1.9.0")]
    [InlineData(">= 1.5.0, < 2.0.0", ">=1.5.0 <2.0.0")]
    public void Terraform_constraints_become_semver_ranges(string constraint, string range) =>
        Assert.Equal(range, TerraformVersions.FromConstraint(constraint));

    [Fact]
    public void The_stacks_required_version_is_read_from_its_files()
    {
        var root = Directory.CreateTempSubdirectory("stack-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "terraform", "aws"));
            File.WriteAllText(Path.Combine(root, "terraform", "aws", "versions.tf"), "terraform {\n  required_version = \"~> 1.9.0\"\n}\n");
            Assert.Equal("~1.9.0", WorkflowSettings.For(root).TerraformVersion);
            Assert.Equal(">=1.5.0", WorkflowSettings.For(Path.Combine(root, "nowhere")).TerraformVersion);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

public sealed class GenerateWorkflowsTests(WorkflowParserFixture parser) : IClassFixture<WorkflowParserFixture>
{
    [Fact]
    public async Task Generate_writes_validated_files_and_check_then_passes_and_fails_after_an_edit()
    {
        var ct = TestContext.Current.CancellationToken;
        var root = Directory.CreateTempSubdirectory("generate-").FullName;
        try
        {
            // The parser from the repository, linked where the target looks for it.
            Directory.CreateDirectory(Path.Combine(root, "tests", "tools"));
            Directory.CreateSymbolicLink(Path.Combine(root, PipelineWorkflows.ParserDirectory), WorkflowParserFixture.ToolDirectory);
            var logger = new LogCapture();

            await PipelineWorkflows.GenerateAsync(root, check: false, BuildParameters.DeployInputs, parser.Runner, logger.Logger, ct);
            Assert.Contains(logger.Messages(Serilog.Events.LogEventLevel.Information), m => m.Contains("accepts 2 workflow files", StringComparison.Ordinal));
            await PipelineWorkflows.GenerateAsync(root, check: true, BuildParameters.DeployInputs, parser.Runner, logger.Logger, ct);

            var ci = Path.Combine(root, ".github", "workflows", "ci.yml");
            await File.AppendAllTextAsync(ci, "# hand edit\n", ct);
            var failure = await Assert.ThrowsAsync<BuildFailure>(() => PipelineWorkflows.GenerateAsync(root, check: true, BuildParameters.DeployInputs, parser.Runner, logger.Logger, ct));
            Assert.Contains("ci.yml (different)", failure.Problem);
            Assert.Contains(logger.Messages(Serilog.Events.LogEventLevel.Information), m => m.Contains("-# hand edit", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
