using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

public sealed class SubmodulesInitTests : IDisposable
{
    private static readonly Dictionary<string, string> AllowFileProtocol = new() { ["TESSLATE_GIT_ALLOW_FILE_PROTOCOL"] = "1" };
    private readonly GitSandbox _git = new();

    public void Dispose() => _git.Dispose();

    /// <summary>app → packages/tesslate-agent (a submodule) → vendor/tools (a nested submodule), then a fresh clone.</summary>
    private string CloneAppWithNestedSubmodules()
    {
        var tools = _git.CreateRepository("tools", "tool.txt", "tool\n", bare: true);
        var agentWork = _git.CreateRepository("agent", "agent.py", "print('agent')\n");
        FixtureApp.Git(agentWork, "submodule", "add", "-q", tools, "vendor/tools");
        FixtureApp.Git(agentWork, "commit", "-q", "-m", "nested");
        var agent = _git.Path("agent.git");
        FixtureApp.Git(_git.Directory, "clone", "-q", "--bare", agentWork, agent);

        var app = _git.CreateRepository("app", "Makefile", "all:\n");
        FixtureApp.Git(app, "submodule", "add", "-q", agent, "packages/tesslate-agent");
        FixtureApp.Git(app, "commit", "-q", "-m", "agent");
        var clone = _git.Path("clone");
        FixtureApp.Git(_git.Directory, "clone", "-q", app, clone);
        return clone;
    }

    [Fact]
    public async Task It_initialises_submodules_recursively_in_the_source_root()
    {
        var clone = CloneAppWithNestedSubmodules();
        Assert.False(File.Exists(Path.Combine(clone, "packages", "tesslate-agent", "agent.py")));

        var (exitCode, output) = await PipelineRun.RunAsync(["SubmodulesInit", "--environment", "local", "--source-root", clone], AllowFileProtocol);

        Assert.True(exitCode == 0, output);
        Assert.Equal("print('agent')\n", File.ReadAllText(Path.Combine(clone, "packages", "tesslate-agent", "agent.py")));
        Assert.Equal("tool\n", File.ReadAllText(Path.Combine(clone, "packages", "tesslate-agent", "vendor", "tools", "tool.txt")));
        Assert.Contains("1 submodule(s) up to date: packages/tesslate-agent", output);
    }

    [Fact]
    public async Task It_is_skipped_with_a_reason_when_there_is_no_gitmodules_file()
    {
        var plain = _git.CreateRepository("plain");
        var (exitCode, output) = await PipelineRun.RunAsync(["SubmodulesInit", "--environment", "local", "--source-root", plain]);
        Assert.Equal(0, exitCode);
        Assert.Contains("↷ SubmodulesInit skipped — no .gitmodules in the source root: no submodules to initialise", output);
    }

    [Fact]
    public async Task A_nested_submodule_that_cannot_be_fetched_is_named_with_its_own_path_and_url()
    {
        var clone = CloneAppWithNestedSubmodules();
        Directory.Move(_git.Path("tools.git"), _git.Path("tools-moved-away.git"));

        var (exitCode, output) = await PipelineRun.RunAsync(["SubmodulesInit", "--environment", "local", "--source-root", clone], AllowFileProtocol);

        Assert.Equal(1, exitCode);
        Assert.Contains($"Nested submodule 'packages/tesslate-agent/vendor/tools' (inside packages/tesslate-agent) could not be initialised from {_git.Path("tools.git")}", output);
        Assert.Contains($"git ls-remote {_git.Path("tools.git")}", output);
    }

    [Fact]
    public async Task A_source_root_from_the_parameters_file_is_relative_to_the_repository_root()
    {
        var clone = CloneAppWithNestedSubmodules();
        var root = _git.Path("build-repo");
        Directory.CreateDirectory(Path.Combine(root, ".nuke"));
        File.WriteAllText(Path.Combine(root, ".nuke", "parameters.json"), """{ "SourceRoot": "../clone" }""");

        var (exitCode, output) = await PipelineRun.RunAsync(["SubmodulesInit", "--environment", "local"], AllowFileProtocol, root);

        Assert.True(exitCode == 0, output);
        Assert.True(File.Exists(Path.Combine(clone, "packages", "tesslate-agent", "agent.py")));
    }

    [Fact]
    public async Task A_submodule_that_cannot_be_fetched_is_named_with_its_url_and_the_fix()
    {
        var clone = CloneAppWithNestedSubmodules();
        var missing = _git.Path("moved-away.git");
        Directory.Move(_git.Path("agent.git"), missing);

        var (exitCode, output) = await PipelineRun.RunAsync(["SubmodulesInit", "--environment", "local", "--source-root", clone], AllowFileProtocol);

        Assert.Equal(1, exitCode);
        Assert.Contains("Submodule 'packages/tesslate-agent' (packages/tesslate-agent) could not be initialised from " + _git.Path("agent.git"), output);
        Assert.Contains("git ls-remote", output);
    }

    [Fact]
    public async Task A_source_root_that_does_not_exist_is_a_usage_error()
    {
        var (exitCode, output) = await PipelineRun.RunAsync(["SubmodulesInit", "--source-root", _git.Path("nowhere")]);
        Assert.Equal(2, exitCode);
        Assert.Contains("--source-root", output);
    }
}
