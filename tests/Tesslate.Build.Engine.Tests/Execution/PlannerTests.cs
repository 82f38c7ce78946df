using Xunit;

namespace Tesslate.Build.Engine.Tests;

public sealed class PlannerTests
{
    // A small graph in the shape of the release: Deploy needs Apply, which needs Build and Infra; Build needs Init
    // and Login; Login is ordered after Init without depending on it.
    private sealed class Graph
    {
        public bool LoginEnabled { get; set; } = true;
        public string? Needed { get; set; }
        public Target Init => _ => _;
        public Target Login => _ => _.After(Init).OnlyWhen(() => LoginEnabled, "no registry login here");
        public Target Build => _ => _.DependsOn(Init, Login);
        public Target Infra => _ => _;
        public Target Apply => _ => _.DependsOn(Build, Infra).Requires(() => Needed);
        public Target Deploy => _ => _.DependsOn(Apply);
        public Target Lonely => _ => _.Before(Init);
    }

    // The guard of the release's shape: every target that changes something depends on it.
    private sealed class GuardedGraph
    {
        public bool GuardEnabled { get; set; } = true;
        public Target Guard => _ => _.Safeguard("it checks the account").OnlyWhen(() => GuardEnabled, "nothing to guard here");
        public Target Login => _ => _.DependsOn(Guard);
        public Target Build => _ => _.DependsOn(Login);
        public Target Deploy => _ => _.DependsOn(Guard, Build);
    }

    private static (TargetGraph Graph, Graph Build) Create(Action<Graph>? configure = null)
    {
        var build = new Graph();
        configure?.Invoke(build);
        return (TargetGraph.Create(build), build);
    }

    private static ExecutionPlan Plan(TargetGraph graph, string[] invoked, IReadOnlyList<string>? skip = null, string[]? defaults = null) =>
        ExecutionPlanner.Plan(graph, invoked, defaults ?? [], skip);

    private static List<string> Names(ExecutionPlan plan, TargetStatus? status = null) =>
        [.. plan.Targets.Where(t => status is null || t.Status == status).Select(t => t.Name)];

    [Fact]
    public void DependsOn_pulls_dependencies_into_the_plan_before_the_target()
    {
        var (graph, _) = Create();
        var plan = Plan(graph, ["Build"]);
        Assert.Equal(["Init", "Login", "Build"], Names(plan));
    }

    [Fact]
    public void After_and_Before_order_targets_only_when_both_are_planned()
    {
        var (graph, _) = Create();
        Assert.Equal(["Login"], Names(Plan(graph, ["Login"])));
        Assert.Equal(["Init", "Login"], Names(Plan(graph, ["Login", "Init"])));
        Assert.Equal(["Lonely", "Init"], Names(Plan(graph, ["Init", "Lonely"])));
    }

    [Fact]
    public void The_default_targets_are_planned_when_none_is_invoked()
    {
        var (graph, _) = Create();
        Assert.Equal(["Infra"], Names(Plan(graph, [], defaults: ["Infra"])));
        var error = Assert.Throws<UsageException>(() => Plan(graph, []));
        Assert.Contains("No target was given", error.Problem);
    }

    [Fact]
    public void Skip_cascades_to_dependencies_nothing_else_needs_and_shows_why()
    {
        var (graph, _) = Create(b => b.Needed = "x");
        var plan = Plan(graph, ["Deploy"], skip: ["Build"]);
        Assert.Equal(TargetStatus.Skipped, plan["Build"]!.Status);
        Assert.Equal("--skip", plan["Build"]!.Note);
        // Init and Login are needed only by Build, so they go too; Infra is still needed by Apply.
        Assert.Equal(TargetStatus.Skipped, plan["Init"]!.Status);
        Assert.Equal("because Build is skipped", plan["Init"]!.Note);
        Assert.Equal(TargetStatus.Skipped, plan["Login"]!.Status);
        Assert.Equal(TargetStatus.Scheduled, plan["Infra"]!.Status);
        Assert.Equal(TargetStatus.Scheduled, plan["Apply"]!.Status);
    }

    [Fact]
    public void A_skipped_target_keeps_a_dependency_that_another_scheduled_target_still_needs()
    {
        var (graph, _) = Create();
        // Login is ordered after Init but does not depend on it: skipping Login never skips Init.
        var plan = Plan(graph, ["Build"], skip: ["Login"]);
        Assert.Equal(TargetStatus.Skipped, plan["Login"]!.Status);
        Assert.Equal(TargetStatus.Scheduled, plan["Init"]!.Status);
    }

    [Fact]
    public void Skip_without_names_skips_every_target_that_was_not_invoked_and_never_an_invoked_one()
    {
        var (graph, _) = Create(b => b.Needed = "x");
        var plan = Plan(graph, ["Apply"], skip: []);
        Assert.Equal(["Apply"], Names(plan, TargetStatus.Scheduled));
        var named = Plan(graph, ["Apply"], skip: ["Apply"]);
        Assert.Equal(TargetStatus.Scheduled, named["Apply"]!.Status);
    }

    [Theory]
    [InlineData("Guard")]          // by name
    [InlineData("Login", "Build")] // through the skipped targets that depend on it
    [InlineData]                   // --skip alone: every target not invoked
    public void Skip_never_skips_a_safeguard_that_is_in_the_plan_and_says_so_when_it_was_named(params string[] skip)
    {
        var graph = TargetGraph.Create(new GuardedGraph());
        var plan = Plan(graph, ["Deploy"], skip: skip);
        Assert.Equal(TargetStatus.Scheduled, plan["Guard"]!.Status);
        Assert.Equal(skip.Length == 0 || skip.Contains("Build") ? TargetStatus.Skipped : TargetStatus.Scheduled, plan["Build"]!.Status);
        var named = skip.Length == 0 || skip.Contains("Guard");
        Assert.Equal(named ? "runs despite --skip: it checks the account" : null, plan["Guard"]!.Note);
    }

    [Fact]
    public void A_safeguards_own_static_condition_still_skips_it()
    {
        var graph = TargetGraph.Create(new GuardedGraph { GuardEnabled = false });
        var plan = Plan(graph, ["Deploy"]);
        Assert.Equal(TargetStatus.Skipped, plan["Guard"]!.Status);
        Assert.Equal("nothing to guard here", plan["Guard"]!.Note);
    }

    [Fact]
    public void A_false_static_condition_skips_with_its_reason()
    {
        var (graph, _) = Create(b => b.LoginEnabled = false);
        var plan = Plan(graph, ["Build"]);
        Assert.Equal(TargetStatus.Skipped, plan["Login"]!.Status);
        Assert.Equal("no registry login here", plan["Login"]!.Note);
        Assert.Equal(TargetStatus.Scheduled, plan["Init"]!.Status);
    }

    [Fact]
    public void Requirements_of_scheduled_targets_are_all_reported_and_skipped_targets_are_not_checked()
    {
        var (graph, _) = Create();
        var plan = Plan(graph, ["Deploy"]);
        var unmet = ExecutionPlanner.UnmetRequirements(plan, member => $"--{member.ToLowerInvariant()}");
        Assert.Equal(["Target 'Apply' requires --needed."], unmet);

        var skipped = Plan(graph, ["Deploy"], skip: ["Apply"]);
        Assert.Empty(ExecutionPlanner.UnmetRequirements(skipped, m => m));
    }

    [Fact]
    public void An_unknown_target_names_the_closest_one_and_lists_the_others()
    {
        var (graph, _) = Create();
        var error = Assert.Throws<UsageException>(() => Plan(graph, ["Deplyo"]));
        Assert.Contains("Target 'Deplyo' does not exist. Did you mean 'Deploy'?", error.Problem);
        Assert.Contains("Apply, Build, Deploy", error.Fix);
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
    }

    [Fact]
    public void Target_names_match_case_insensitively_and_without_hyphens()
    {
        var (graph, _) = Create();
        Assert.Equal("Infra", Plan(graph, ["infra"]).Targets.Single().Name);
        Assert.NotNull(graph.Find("de-ploy"));
    }

    private sealed class Cyclic
    {
        public Target A => _ => _.DependsOn(B);
        public Target B => _ => _.After(C);
        public Target C => _ => _.DependsOn(A);
    }

    [Fact]
    public void A_cycle_fails_at_startup_naming_every_target_on_it()
    {
        var error = Assert.Throws<UsageException>(() => TargetGraph.Create(new Cyclic()));
        Assert.Contains("Circular dependencies between targets: A -> B -> C -> A.", error.Problem);
    }

    private sealed class SelfDependent
    {
        public Target A => _ => _.DependsOn(A);
    }

    [Fact]
    public void A_target_cannot_depend_on_itself()
    {
        var error = Assert.Throws<UsageException>(() => TargetGraph.Create(new SelfDependent()));
        Assert.Contains("'A' cannot have a dependency on itself", error.Problem);
    }

    [Fact]
    public void Waves_group_targets_that_can_run_side_by_side()
    {
        var (graph, _) = Create(b => b.Needed = "x");
        var waves = Plan(graph, ["Apply"]).Waves().Select(w => w.Select(t => t.Name).ToList()).ToList();
        Assert.Equal(["Init", "Infra"], waves[0]);
        Assert.Equal(["Login"], waves[1]);
        Assert.Contains("Apply", waves[3]);
    }

    [Fact]
    public void Waves_wait_behind_a_skipped_target_for_what_it_would_have_waited_for_as_the_scheduler_does()
    {
        var (graph, _) = Create();
        var plan = Plan(graph, ["Deploy", "Build"], skip: ["Apply"]);
        Assert.Equal(["Infra", "Apply"], Names(plan, TargetStatus.Skipped));

        var waves = plan.Waves().Select(w => w.Select(t => t.Name).ToList()).ToList();

        Assert.Equal([["Init"], ["Login"], ["Build"], ["Deploy"]], waves);
    }
}
