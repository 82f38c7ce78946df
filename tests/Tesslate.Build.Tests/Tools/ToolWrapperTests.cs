using System.Collections.Concurrent;
using Tesslate.Build.Docker;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Git;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Tesslate.Build.Tools;
using Xunit;

namespace Tesslate.Build.Tests.Tools;

public sealed class ToolWrapperTests
{
    [Fact]
    public void Tool_overrides_come_from_the_runs_environment_and_an_empty_one_means_the_name_on_path()
    {
        var tools = ToolExecutables.From(new Dictionary<string, string>
        {
            ["GIT_EXE"] = "/opt/git/bin/git",
            ["DOCKER_EXE"] = "",
            ["TERRAFORM_EXE"] = "/opt/tf/terraform",
        });

        Assert.Equal(new ToolExecutables("/opt/git/bin/git", "docker", "/opt/tf/terraform", "kubectl"), tools);
    }

    [Fact]
    public void Docker_login_uses_the_runs_docker_executable_and_engine()
    {
        var options = new DockerOptions { Executable = "/opt/docker/bin/docker", Host = "tcp://127.0.0.1:2375" };

        var login = DockerLogin.Command("127.0.0.1:5000", "AWS", "a-password-for-the-test", docker: options);

        Assert.Equal("/opt/docker/bin/docker", login.Executable);
        Assert.Equal("tcp://127.0.0.1:2375", login.Environment["DOCKER_HOST"]);
        Assert.Null(login.Environment["DOCKER_CONTEXT"]);
        Assert.Equal(["login", "--username", "AWS", "--password-stdin", "127.0.0.1:5000"], login.Arguments);
        Assert.DoesNotContain("a-password-for-the-test", login.Display);
    }

    [Fact]
    public async Task The_git_wrapper_reads_head_changes_and_remotes_of_a_real_repository_with_the_given_executable()
    {
        var ct = TestContext.Current.CancellationToken;
        using var sandbox = new GitSandbox();
        var work = sandbox.CreateRepository("app");
        var commands = new ConcurrentQueue<ToolCommand>();
        var runner = new RecordingProcessRunner(new ProcessRunner(Serilog.Core.Logger.None), commands);
        var git = new GitRepository(runner, work, ToolLocator.Find("git")!);

        Assert.Equal(FixtureApp.Git(work, "rev-parse", "HEAD").Trim(), await git.HeadCommitAsync(ct));
        Assert.False(await git.HasChangesAsync(ct));
        Assert.Null(await git.RemoteUrlAsync("origin", ct));

        await File.WriteAllTextAsync(Path.Combine(work, "new.txt"), "untracked\n", ct);
        FixtureApp.Git(work, "remote", "add", "origin", "https://github.com/TesslateAI/Studio.git");

        Assert.True(await git.HasChangesAsync(ct));
        Assert.Equal("https://github.com/TesslateAI/Studio.git", await git.RemoteUrlAsync("origin", ct));
        Assert.All(commands, c => Assert.Equal(ToolLocator.Find("git"), c.Executable));
        Assert.All(commands, c => Assert.True(c.IsReadOnly && c.CaptureOutput && c.Quiet, c.Display));
    }
}
