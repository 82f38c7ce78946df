using System.Diagnostics;
using Tesslate.Build.Engine.Workflows;
using Tesslate.Build.Platform;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Xunit;

namespace Tesslate.Build.Tests.GitHub;

/// <summary>
/// deploy.yml's first build step, exactly as generated, run the way a runner runs it (bash -eo pipefail, the step's
/// variables) against a real git repository served over file:// in place of github.com: what it resolves, what it hands
/// on, and how it fails.
/// </summary>
public sealed class ApplicationRefResolutionTests : IDisposable
{
    private const string Repository = "acme/app";

    private readonly GitSandbox _git = new();
    private readonly string _first;
    private readonly string _main;
    private readonly string _feature;

    public ApplicationRefResolutionTests()
    {
        var work = _git.CreateRepository("app");
        _first = FixtureApp.Git(work, "rev-parse", "HEAD").Trim();
        FixtureApp.Git(work, "tag", "-a", "v1.0.0", "-m", "release");
        FixtureApp.Git(work, "checkout", "-q", "-b", "feature/login");
        FixtureApp.Git(work, "commit", "-q", "--allow-empty", "-m", "login");
        _feature = FixtureApp.Git(work, "rev-parse", "HEAD").Trim();
        FixtureApp.Git(work, "checkout", "-q", "main");
        FixtureApp.Git(work, "commit", "-q", "--allow-empty", "-m", "second");
        _main = FixtureApp.Git(work, "rev-parse", "HEAD").Trim();
        var served = _git.Path("server", "acme", "app");
        Directory.CreateDirectory(Path.GetDirectoryName(served)!);
        FixtureApp.Git(_git.Directory, "clone", "-q", "--bare", work, served);
        // As github.com: reachable commits can be fetched by SHA, and partial-clone filters are honoured.
        FixtureApp.Git(served, "config", "uploadpack.allowReachableSHA1InWant", "true");
        FixtureApp.Git(served, "config", "uploadpack.allowFilter", "true");
    }

    public void Dispose() => _git.Dispose();

    private static Step FirstBuildStep =>
        PipelineWorkflows.Deploy(new WorkflowSettings(), BuildParameters.DeployInputs).Jobs.Single(j => j.Id == PipelineWorkflows.BuildJob).Steps[0];

    private sealed record StepRun(int ExitCode, string[] Commands, string Output, string Summary, string Stdout);

    private async Task<StepRun> RunAsync(string requested, string token = "")
    {
        var step = FirstBuildStep;
        var temp = _git.Path("runner-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(temp);
        var script = Path.Combine(temp, "step.sh");
        await File.WriteAllTextAsync(script, step.Run, TestContext.Current.CancellationToken);
        var output = Path.Combine(temp, "output");
        var summary = Path.Combine(temp, "summary");
        await File.WriteAllTextAsync(output, "", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(summary, "", TestContext.Current.CancellationToken);

        // GitHub's default shell for run steps on Linux.
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--noprofile", "--norc", "-eo", "pipefail", script })
            start.ArgumentList.Add(argument);
        // The step's own variables by name (their expressions evaluated as GitHub would), plus the runner's.
        Assert.Equal(["APPLICATION_REF", "APPLICATION_TOKEN"], step.Env.Keys.Order());
        start.Environment["APPLICATION_REF"] = requested;
        start.Environment["APPLICATION_TOKEN"] = token;
        start.Environment["APPLICATION_REPOSITORY"] = Repository;
        start.Environment["GITHUB_SERVER_URL"] = "file://" + _git.Path("server");
        start.Environment["RUNNER_TEMP"] = temp;
        start.Environment["GITHUB_OUTPUT"] = output;
        start.Environment["GITHUB_STEP_SUMMARY"] = summary;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        var text = await stdout + await stderr;
        return new StepRun(process.ExitCode, [.. text.Split('\n').Where(l => l.StartsWith("::", StringComparison.Ordinal))],
            await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken), await File.ReadAllTextAsync(summary, TestContext.Current.CancellationToken), text);
    }

    public static TheoryData<string> Names => ["main", "v1.0.0", "feature/login", "refs/heads/main"];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_branch_or_tag_resolves_to_its_full_commit_sha_which_becomes_the_steps_output(string requested)
    {
        var expected = requested switch { "v1.0.0" => _first, "feature/login" => _feature, _ => _main };

        var run = await RunAsync(requested);

        Assert.True(run.ExitCode == 0, run.Stdout);
        Assert.Equal($"{PipelineWorkflows.ApplicationCommitOutput}={expected}\n", run.Output);
        Assert.Contains($"`{requested}` is `{expected}`", run.Summary);
        Assert.Empty(run.Commands);
    }

    [Fact]
    public async Task A_full_sha_resolves_to_itself_also_when_it_is_no_branch_tip()
    {
        var run = await RunAsync(_first);

        Assert.True(run.ExitCode == 0, run.Stdout);
        Assert.Equal($"{PipelineWorkflows.ApplicationCommitOutput}={_first}\n", run.Output);
    }

    [Theory]
    [InlineData("no-such-branch", "couldn't find remote ref no-such-branch")]
    [InlineData("abbreviated", "couldn't find remote ref")]
    [InlineData("unknown-sha", "not our ref")]
    public async Task A_ref_that_names_nothing_fails_the_step_with_one_error_naming_the_ref(string requested, string gitSays)
    {
        requested = requested switch { "abbreviated" => _main[..10], "unknown-sha" => new string('e', 40), _ => requested };

        var run = await RunAsync(requested);

        Assert.Equal(1, run.ExitCode);
        var error = Assert.Single(run.Commands);
        Assert.StartsWith($"::error title=application-ref::application-ref '{requested}' does not resolve in {Repository}: ", error);
        Assert.Contains(gitSays, error);
        Assert.Empty(run.Output);
    }

    [Theory]
    [InlineData("--upload-pack=touch pwned")]
    [InlineData("main:refs/heads/x")]
    [InlineData("a..b")]
    [InlineData("")]
    public async Task Something_that_is_no_ref_is_refused_before_git_is_asked(string requested)
    {
        var run = await RunAsync(requested);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"::error title=application-ref::application-ref '{requested}' is not a branch, tag or full commit SHA of {Repository}.", Assert.Single(run.Commands));
        Assert.False(Directory.Exists(Path.Combine(_git.Directory, "pwned")));
        Assert.Empty(run.Output);
    }

    [Fact]
    public async Task A_ref_with_a_line_break_cannot_start_a_workflow_command_of_its_own()
    {
        var run = await RunAsync("main\n::add-mask::x\n::set-output name=application-commit::evil");

        Assert.Equal(1, run.ExitCode);
        var error = Assert.Single(run.Commands);
        Assert.Contains("main%0A::add-mask::x%0A::set-output", error);
        Assert.Empty(run.Output);
    }

    [Fact]
    public async Task A_token_is_sent_as_a_masked_header_never_in_the_clear()
    {
        const string token = "ghs_applicationRepositoryToken1234";

        var run = await RunAsync("main", token);

        Assert.True(run.ExitCode == 0, run.Stdout);
        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("x-access-token:" + token));
        Assert.Equal(["::add-mask::" + basic], run.Commands);
        Assert.DoesNotContain(token, run.Stdout);
        Assert.Equal($"{PipelineWorkflows.ApplicationCommitOutput}={_main}\n", run.Output);
    }
}
