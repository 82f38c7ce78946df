using Serilog.Events;
using Tesslate.Build.Engine;
using Tesslate.Build.GitHub;
using Xunit;

namespace Tesslate.Build.Tests.GitHub;

public sealed class DeploymentRecorderTests(FakeGitHubApiFixture fixture) : IClassFixture<FakeGitHubApiFixture>
{
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";
    private const string Token = "ghp_fakeDeploymentRecordToken1234";

    private readonly LogCapture _log = new();

    private FakeGitHubApi Api => fixture.Api;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string ApplicationSha = "fedcba9876543210fedcba9876543210fedcba98";

    private DeploymentRecorder Recorder(string repository, string token = Token, string? application = null) =>
        DeploymentRecorder.Create(new GitHubToken(token, "test"), Api.BaseAddress, new DeploymentRequest(new GitHubRepository("acme", repository), "beta", Sha)
        {
            LogUrl = "https://github.com/acme/x/actions/runs/1",
            ApplicationCommit = application,
        }, _log.Logger);

    [Fact]
    public async Task A_laptop_deploy_creates_a_deployment_then_marks_it_in_progress_and_successful()
    {
        var recorder = Recorder("laptop");
        await recorder.StartAsync(Ct);
        await recorder.SucceededAsync("https://beta.example.test", ["4 images built", "3 rollouts done"], Ct);

        var requests = Api.Requests("acme", "laptop");
        Assert.Equal(3, requests.Count);

        var create = requests[0];
        Assert.Equal(("POST", "/api/v3/repos/acme/laptop/deployments"), (create.Method, create.Path));
        Assert.Equal(Sha, create.Body!.Value.GetProperty("ref").GetString());
        Assert.Equal("beta", create.Body.Value.GetProperty("environment").GetString());
        Assert.False(create.Body.Value.GetProperty("auto_merge").GetBoolean());
        Assert.Equal(0, create.Body.Value.GetProperty("required_contexts").GetArrayLength());
        Assert.Equal("Token " + Token, create.Authorization);

        var deploymentPath = $"/api/v3/repos/acme/laptop/deployments/{recorder.DeploymentId}/statuses";
        Assert.Equal(("POST", deploymentPath, "in_progress"), (requests[1].Method, requests[1].Path, requests[1].Body!.Value.GetProperty("state").GetString()));
        Assert.Equal("https://github.com/acme/x/actions/runs/1", requests[1].Body!.Value.GetProperty("log_url").GetString());
        var success = requests[2].Body!.Value;
        Assert.Equal(("POST", deploymentPath), (requests[2].Method, requests[2].Path));
        Assert.Equal("success", success.GetProperty("state").GetString());
        Assert.Equal("https://beta.example.test", success.GetProperty("environment_url").GetString());
        Assert.Equal("Deployed 0123456 to beta: 4 images built · 3 rollouts done", success.GetProperty("description").GetString());
        Assert.Empty(_log.Messages(LogEventLevel.Warning));
    }

    [Fact]
    public async Task A_failed_deploy_names_the_failing_target_and_the_summary_in_at_most_140_characters()
    {
        var recorder = Recorder("failing");
        await recorder.StartAsync(Ct);
        await recorder.FailedAsync("WaitRollout", ["backend: CrashLoopBackOff " + new string('x', 200)], Ct);

        var failure = Api.Requests("acme", "failing")[^1].Body!.Value;
        Assert.Equal("failure", failure.GetProperty("state").GetString());
        var description = failure.GetProperty("description").GetString()!;
        Assert.StartsWith("WaitRollout failed: backend: CrashLoopBackOff", description);
        Assert.Equal(DeploymentRecorder.MaxDescriptionLength, description.Length);
    }

    [Fact]
    public async Task The_deployment_names_the_application_commit_in_its_payload_and_descriptions_while_its_ref_stays_this_repositorys()
    {
        var recorder = Recorder("application", application: ApplicationSha);
        await recorder.StartAsync(Ct);
        await recorder.SucceededAsync("https://beta.example.test", ["Deploy: Succeeded"], Ct);

        var requests = Api.Requests("acme", "application");
        var create = requests[0].Body!.Value;
        Assert.Equal(Sha, create.GetProperty("ref").GetString());
        Assert.Equal(ApplicationSha, create.GetProperty("payload").GetProperty(DeploymentRecorder.ApplicationCommitKey).GetString());
        Assert.Equal("Deploy application fedcba9 (pipeline 0123456) to beta", create.GetProperty("description").GetString());
        Assert.Equal("Deploying application fedcba9 (pipeline 0123456) to beta", requests[1].Body!.Value.GetProperty("description").GetString());
        Assert.Equal("Deployed application fedcba9 (pipeline 0123456) to beta: Deploy: Succeeded", requests[2].Body!.Value.GetProperty("description").GetString());

        // What GitHub then shows for the environment: this repository's commit, the application commit in the payload.
        var stored = Assert.Single(Api.Deployments("acme", "application"));
        Assert.Equal(Sha, stored.GetProperty("sha").GetString());
        Assert.Equal(ApplicationSha, stored.GetProperty("payload").GetProperty(DeploymentRecorder.ApplicationCommitKey).GetString());
    }

    [Fact]
    public async Task A_failure_names_the_application_commit_before_the_summary()
    {
        var recorder = Recorder("application-failing", application: ApplicationSha);
        await recorder.StartAsync(Ct);
        await recorder.FailedAsync("WaitRollout", ["backend: CrashLoopBackOff"], Ct);

        Assert.Equal("WaitRollout failed deploying application fedcba9: backend: CrashLoopBackOff",
            Api.Requests("acme", "application-failing")[^1].Body!.Value.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Every_run_creates_its_own_deployment_even_for_a_commit_deployed_before()
    {
        // The deploy job declares deployment: false, so a deployment already there for this commit is an earlier run's:
        // application CI requests many application commits against one commit of this repository.
        var earlier = Api.SeedDeployment("acme", "again", Sha, "beta");
        var recorder = Recorder("again", application: ApplicationSha);
        await recorder.StartAsync(Ct);

        Assert.NotEqual(earlier, recorder.DeploymentId);
        var requests = Api.Requests("acme", "again");
        Assert.Equal(("POST", "/api/v3/repos/acme/again/deployments"), (requests[0].Method, requests[0].Path));
        Assert.Equal($"/api/v3/repos/acme/again/deployments/{recorder.DeploymentId}/statuses", requests[1].Path);
        Assert.Equal(2, Api.Deployments("acme", "again").Count);
    }

    [Theory]
    [InlineData("missing", Token, "404 Not Found")]
    [InlineData("limited", Token, "rate limit of 5000 requests reached")]
    [InlineData("unauthorized", FakeGitHubApi.BadToken, "401 Unauthorized")]
    public async Task A_GitHub_error_is_one_warning_and_never_fails_the_deploy(string repository, string token, string expected)
    {
        var recorder = Recorder(repository, token: token);
        await recorder.StartAsync(Ct);
        await recorder.SucceededAsync("https://beta.example.test", ["done"], Ct);
        await recorder.FailedAsync("Deploy", ["never sent"], Ct);

        var warning = Assert.Single(_log.Messages(LogEventLevel.Warning));
        Assert.Contains(expected, warning);
        Assert.Contains("The deploy itself is not affected", warning);
        Assert.DoesNotContain(token, warning);
        Assert.Single(Api.Requests("acme", repository));
        Assert.False(recorder.IsActive);
    }

    [Fact]
    public async Task Without_a_token_it_says_once_that_it_skipped_and_sends_nothing()
    {
        var recorder = DeploymentRecorder.Create(null, Api.BaseAddress, new DeploymentRequest(new GitHubRepository("acme", "tokenless"), "beta", Sha), _log.Logger,
            tokenSetting: "--token");
        await recorder.StartAsync(Ct);
        await recorder.SucceededAsync(null, null, Ct);
        Assert.Contains(_log.Messages(LogEventLevel.Information), m => m.Contains("GitHub deployment record skipped: no token (pass --token, set GITHUB_TOKEN, or log in with 'gh auth login')."));
        Assert.Single(_log.Events);
        Assert.Empty(Api.Requests("acme", "tokenless"));
    }

    [Fact]
    public void The_token_is_registered_as_a_secret()
    {
        Recorder("secret");
        Assert.Equal("Authorization: [REDACTED]", Secrets.Redact("Authorization: " + Token));
    }
}

public sealed class ApiBaseTests
{
    [Theory]
    [InlineData("https://api.github.com", "https://api.github.com/")]
    [InlineData("https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/")]
    [InlineData("http://127.0.0.1:5000/", "http://127.0.0.1:5000/api/v3/")]
    public void The_API_base_follows_the_github_com_and_enterprise_rules(string given, string expected) =>
        Assert.Equal(expected, DeploymentRecorder.ApiBase(new Uri(given)).ToString());
}
