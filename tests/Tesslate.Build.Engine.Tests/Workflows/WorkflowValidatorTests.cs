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

    [Fact]
    public void Parameter_types_map_to_input_types()
    {
        Assert.Equal(WorkflowInputType.Boolean, WorkflowInput.ForParameter("a", "a", typeof(bool)).Type);
        Assert.Equal(WorkflowInputType.Number, WorkflowInput.ForParameter("a", "a", typeof(int?)).Type);
        Assert.Equal(WorkflowInputType.String, WorkflowInput.ForParameter("a", "a", typeof(string)).Type);
        var choice = WorkflowInput.ForParameter("a", "a", typeof(SampleWorkflows.Stage), SampleWorkflows.Stage.Production);
        Assert.Equal(WorkflowInputType.Choice, choice.Type);
        Assert.Equal(["beta", "production"], choice.Options);
        Assert.Equal("production", choice.Default);
    }
}
