using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.GitHub;
using Xunit;

namespace Tesslate.Build.Tests.GitHub;

/// <summary>One test sets GH_EXE for the process: the class runs in the serialised collection.</summary>
[Collection("process environment")]
public sealed class GitHubTokenSourceTests
{
    private static readonly IProcessRunner Runner = new ProcessRunner(new Serilog.LoggerConfiguration().CreateLogger());

    [Fact]
    public async Task The_explicit_parameter_wins_over_the_environment_and_is_registered_as_a_secret()
    {
        var token = await GitHubTokenSource.ResolveAsync("ghp_explicitValue987", _ => "ghp_fromEnvironment", Runner, new LogCapture().Logger, TestContext.Current.CancellationToken,
            explicitSource: "--token");
        Assert.Equal(("ghp_explicitValue987", "--token"), (token!.Value, token.Source));
        Assert.DoesNotContain("ghp_explicitValue987", Secrets.Redact("x ghp_explicitValue987"));
        Assert.DoesNotContain("ghp_explicitValue987", token.ToString());
    }

    [Fact]
    public async Task GITHUB_TOKEN_is_used_when_no_parameter_is_given()
    {
        var token = await GitHubTokenSource.ResolveAsync(null, name => name == "GITHUB_TOKEN" ? "ghs_actionsToken456" : null, Runner, new LogCapture().Logger, TestContext.Current.CancellationToken);
        Assert.Equal("GITHUB_TOKEN", token!.Source);
    }

    [Fact]
    public async Task Gh_is_asked_last_and_its_token_is_read_from_stdout()
    {
        if (OperatingSystem.IsWindows())
            return;
        // A stand-in gh on a private PATH entry: the probe must pass "auth token" and take the first line.
        var directory = Directory.CreateTempSubdirectory("gh-").FullName;
        try
        {
            var gh = ExecutableScript.Write(Path.Combine(directory, "gh"), "#!/bin/sh\n[ \"$1 $2\" = \"auth token\" ] && echo gho_fromGhCli321 && exit 0\nexit 1\n");
            Environment.SetEnvironmentVariable("GH_EXE", gh);
            var token = await GitHubTokenSource.ResolveAsync(null, _ => null, Runner, new LogCapture().Logger, TestContext.Current.CancellationToken);
            Assert.Equal(("gho_fromGhCli321", "gh auth token"), (token!.Value, token.Source));
        }
        finally
        {
            Environment.SetEnvironmentVariable("GH_EXE", null);
            Directory.Delete(directory, recursive: true);
        }
    }
}

public sealed class GitHubRepositoryTests
{
    [Theory]
    [InlineData("https://github.com/TesslateAI/deploy.git")]
    [InlineData("https://github.com/TesslateAI/deploy")]
    [InlineData("git@github.com:TesslateAI/deploy.git")]
    [InlineData("ssh://git@github.com/TesslateAI/deploy.git")]
    [InlineData("https://x-access-token:abc@github.com/TesslateAI/deploy.git")]
    public void Remote_urls_give_owner_and_name(string url) =>
        Assert.Equal(new GitHubRepository("TesslateAI", "deploy"), GitHubRepository.TryParseRemote(url));

    [Fact]
    public void The_Actions_run_is_read_from_the_runner_variables()
    {
        var variables = new Dictionary<string, string>
        {
            ["GITHUB_ACTIONS"] = "true",
            ["GITHUB_REPOSITORY"] = "acme/app",
            ["GITHUB_SHA"] = "abc",
            ["GITHUB_RUN_ID"] = "42",
            ["GITHUB_SERVER_URL"] = "https://github.com",
        };
        var run = ActionsRun.FromEnvironment(name => variables.GetValueOrDefault(name));
        Assert.Equal("https://github.com/acme/app/actions/runs/42", run!.RunUrl);
        Assert.Null(ActionsRun.FromEnvironment(_ => null));
    }
}
