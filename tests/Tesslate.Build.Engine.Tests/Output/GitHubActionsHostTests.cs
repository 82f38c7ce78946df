using Xunit;

namespace Tesslate.Build.Engine.Tests;

public sealed class GitHubActionsHostTests
{
    private static (GitHubActionsHost Host, StringWriter Output) Create(Dictionary<string, string>? environment = null)
    {
        var output = new StringWriter();
        return (new GitHubActionsHost(output, environment ?? []), output);
    }

    [Fact]
    public void Masks_each_line_of_a_secret()
    {
        var (host, output) = Create();
        host.Mask("line-one\nline-two");
        Assert.Equal(["::add-mask::line-one", "::add-mask::line-two"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Annotations_escape_newlines_and_percent_signs_and_carry_the_target_as_title()
    {
        var (host, output) = Create();
        host.Annotate("error", "BuildImages", "100% broken\nsecond line");
        Assert.Equal("::error title=BuildImages::100%25 broken%0Asecond line", output.ToString().Trim());
    }

    [Fact]
    public void Groups_wrap_what_the_body_writes()
    {
        var (host, output) = Create();
        host.Group("Deploy — Succeeded (1.0 s)", () => { });
        Assert.Equal("::group::Deploy — Succeeded (1.0 s)\n::endgroup::", output.ToString().Trim().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void The_step_summary_is_appended_redacted()
    {
        var summary = Path.GetTempFileName();
        try
        {
            Secrets.BeginScope().Register("super-secret-token");
            var (host, _) = Create(new() { ["GITHUB_STEP_SUMMARY"] = summary });
            host.AppendStepSummary("token: super-secret-token\n");
            Assert.Equal("token: [REDACTED]\n", File.ReadAllText(summary));
        }
        finally
        {
            File.Delete(summary);
        }
    }

    [Fact]
    public void The_run_url_comes_from_the_runner_environment()
    {
        var (host, _) = Create(new() { ["GITHUB_SERVER_URL"] = "https://github.com", ["GITHUB_REPOSITORY"] = "TesslateAI/Tesslate.Build", ["GITHUB_RUN_ID"] = "42" });
        Assert.Equal("https://github.com/TesslateAI/Tesslate.Build/actions/runs/42", host.RunUrl);
        Assert.Null(GitHubActionsHost.Detect(new Dictionary<string, string>(), TextWriter.Null));
    }
}
