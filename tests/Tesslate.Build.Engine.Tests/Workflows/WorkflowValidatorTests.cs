using Tesslate.Build.Engine.Workflows;
using Xunit;
using static Tesslate.Build.Engine.Tests.Workflows.SampleWorkflows;

namespace Tesslate.Build.Engine.Tests.Workflows;

public sealed class WorkflowValidatorTests
{
    [Fact]
    public void A_complete_declaration_has_no_problems() => Assert.Empty(WorkflowValidator.Problems(Release()));

    [Fact]
    public void A_job_that_needs_an_unknown_job_is_named_with_its_workflow()
    {
        var failure = Assert.Throws<BuildFailure>(() => WorkflowValidator.Validate([Minimal(Job("build"), Job("deploy", "biuld"))]));
        Assert.Contains("workflow 'minimal.yml': job 'deploy': it needs unknown job 'biuld'", failure.Problem);
        Assert.Contains("nothing was written", failure.Fix);
    }

    [Fact]
    public void A_cycle_in_needs_is_shown_as_a_path()
    {
        var problems = WorkflowValidator.Problems(Minimal(Job("start"), Job("a", "c", "start"), Job("b", "a"), Job("c", "b")));
        var cycle = Assert.Single(problems);
        Assert.Equal("workflow 'minimal.yml': jobs need each other in a cycle: a → c → b → a.", cycle);
    }

    [Fact]
    public void A_job_that_needs_itself_is_reported()
    {
        Assert.Contains(WorkflowValidator.Problems(Minimal(Job("loop", "loop"))), p => p.Contains("job 'loop': it needs itself"));
    }

    [Theory]
    [InlineData("1st")]
    [InlineData("has space")]
    [InlineData("dot.ted")]
    [InlineData("")]
    public void An_input_name_that_is_not_an_identifier_is_refused(string name)
    {
        var workflow = Minimal() with { On = new WorkflowTriggers { WorkflowDispatch = new WorkflowDispatchTrigger(WorkflowInput.String(name, "x")) } };
        Assert.Contains(WorkflowValidator.Problems(workflow), p => p.Contains($"input '{name}' is not a valid identifier"));
    }

    [Fact]
    public void More_dispatch_inputs_than_GitHub_accepts_are_refused()
    {
        var ok = Minimal() with { On = new WorkflowTriggers { WorkflowDispatch = new WorkflowDispatchTrigger(Inputs(WorkflowValidator.MaxDispatchInputs)) } };
        var tooMany = Minimal() with { On = new WorkflowTriggers { WorkflowDispatch = new WorkflowDispatchTrigger(Inputs(WorkflowValidator.MaxDispatchInputs + 1)) } };
        Assert.Empty(WorkflowValidator.Problems(ok));
        Assert.Contains(WorkflowValidator.Problems(tooMany), p => p.Contains("declares 26 inputs; GitHub accepts at most 25"));
    }

    [Fact]
    public void A_choice_default_outside_its_options_is_refused()
    {
        var workflow = Minimal() with { On = new WorkflowTriggers { WorkflowDispatch = new WorkflowDispatchTrigger(WorkflowInput.Choice("env", "where", ["beta", "production"], "staging")) } };
        Assert.Contains(WorkflowValidator.Problems(workflow), p => p.Contains("defaults to 'staging', which is not one of its options"));
    }

    [Fact]
    public void A_step_with_both_uses_and_run_is_refused()
    {
        var job = new Job("j") { Steps = [new Step { Uses = Checkout.Uses, Run = "echo" }] };
        Assert.Contains(WorkflowValidator.Problems(Minimal(job)), p => p.Contains("job 'j': step 1 must have exactly one of 'uses' and 'run'"));
    }

    [Fact]
    public void An_action_pinned_to_a_tag_is_refused_unless_pinning_is_off()
    {
        var job = new Job("j") { Steps = [new Step { Name = "co", Uses = "actions/checkout@v4" }] };
        Assert.Contains(WorkflowValidator.Problems(Minimal(job)), p => p.Contains("step 1 'co' uses 'actions/checkout@v4', which is not pinned"));
        Assert.Empty(WorkflowValidator.Problems(Minimal(job), requirePinnedActions: false));
    }

    [Fact]
    public void Id_token_read_is_refused_because_GitHub_only_accepts_write_or_none()
    {
        var job = Job("j") with { Permissions = Permissions.Empty.Read(PermissionScope.IdToken) };
        Assert.Contains(WorkflowValidator.Problems(Minimal(job)), p => p.Contains("id-token can only be 'write' or 'none'"));
    }

    [Fact]
    public void Duplicate_jobs_workflows_and_step_ids_are_refused()
    {
        var job = new Job("j") { Steps = [Step.Script("a", "x") with { Id = "s" }, Step.Script("b", "y") with { Id = "s" }] };
        Assert.Contains(WorkflowValidator.Problems(Minimal(job, job)), p => p.Contains("job 'j' is declared twice"));
        Assert.Contains(WorkflowValidator.Problems(Minimal(job)), p => p.Contains("has id 's'"));
        var failure = Assert.Throws<BuildFailure>(() => WorkflowValidator.Validate([Minimal(), Minimal()]));
        Assert.Contains("workflow 'minimal.yml' is declared 2 times", failure.Problem);
    }

    [Fact]
    public void A_workflow_without_triggers_or_jobs_is_refused()
    {
        var problems = WorkflowValidator.Problems(new Workflow("empty.yml", "Empty"));
        Assert.Contains(problems, p => p.Contains("no trigger"));
        Assert.Contains(problems, p => p.Contains("declares no jobs"));
    }

    private sealed class DispatchParameters
    {
        [Parameter("Where to release")] public readonly SampleWorkflows.Stage Stage = SampleWorkflows.Stage.Production;
        [Parameter("Images to build")] public readonly string[] Images = [];
        [Parameter("Rebuild anyway")] public readonly bool ForceBuild;
        [Parameter("How many at once")] public readonly int? BuildParallelism = 4;
        [Parameter("A checkout")] public readonly string? SourceRoot;
        [Parameter("Token")][Secret] public readonly string? GitHubToken;
    }

    private static ParameterDescriptor Parameter(string name) => ParameterBinder.Discover(new DispatchParameters(), "X_").Single(p => p.Name == name);

    private static WorkflowInput Input(string name) => WorkflowInput.ForParameter(Parameter(name));

    [Fact]
    public void A_parameter_becomes_an_input_with_its_name_description_type_and_default()
    {
        var stage = Input("stage");
        Assert.Equal(("stage", "Where to release", WorkflowInputType.Choice, "production"), (stage.Name, stage.Description, stage.Type, stage.Default));
        Assert.Equal(["beta", "production"], stage.Options);
        Assert.Equal((WorkflowInputType.Boolean, false), (Input("force-build").Type, Input("force-build").Default));
        Assert.Equal((WorkflowInputType.Number, 4.0), (Input("build-parallelism").Type, Input("build-parallelism").Default));
        Assert.Equal((WorkflowInputType.String, ""), (Input("images").Type, Input("images").Default));
        Assert.Equal((WorkflowInputType.String, null), (Input("source-root").Type, Input("source-root").Default));
        var all = Minimal() with { On = new WorkflowTriggers { WorkflowDispatch = new WorkflowDispatchTrigger(new[] { "stage", "images", "force-build", "build-parallelism", "source-root" }.Select(Input)) } };
        Assert.Empty(WorkflowValidator.Problems(all));
    }

    [Fact]
    public void A_secret_parameter_is_refused_as_an_input()
    {
        var error = Assert.Throws<ArgumentException>(() => WorkflowInput.ForParameter(Parameter("github-token")));
        Assert.Contains("--github-token is a secret", error.Message);
    }
}
