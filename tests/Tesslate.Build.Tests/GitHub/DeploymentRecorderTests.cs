using Serilog.Events;
using Tesslate.Build.Engine;
using Tesslate.Build.GitHub;
using Xunit;

namespace Tesslate.Build.Tests.GitHub;

public sealed class DeploymentRecorderTests(FakeGitHubApiFixture fixture) : IClassFixture<FakeGitHubApiFixture>
{
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";
    private const string Token = "ghp_fakeDeploymentRecordToken1234";

    private readonly CollectingLogger _log = new();

    private FakeGitHubApi Api => fixture.Api;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DeploymentRecorder Recorder(string repository, bool insideActions = false, string token = Token) =>
        DeploymentRecorder.Create(new GitHubToken(token, "test"), Api.BaseAddress, new DeploymentRequest(new GitHubRepository("acme", repository), "beta", Sha)
        {
            LogUrl = "https://github.com/acme/x/actions/runs/1",
        }, insideActions, _log.Logger);

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
        Assert.Equal("4 images built · 3 rollouts done", success.GetProperty("description").GetString());
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
    public async Task Inside_Actions_the_jobs_deployment_gets_the_statuses_and_no_second_one_is_created()
    {
        Api.SeedDeployment("acme", "actions", "ffffffffffffffffffffffffffffffffffffffff", "beta");
        var jobDeployment = Api.SeedDeployment("acme", "actions", Sha, "beta");
        var recorder = Recorder("actions", insideActions: true);
        await recorder.StartAsync(Ct);
        await recorder.SucceededAsync("https://beta.example.test", null, Ct);

        Assert.Equal(jobDeployment, recorder.DeploymentId);
        var requests = Api.Requests("acme", "actions");
        Assert.DoesNotContain(requests, r => r.Method == "POST" && r.Path.EndsWith("/deployments", StringComparison.Ordinal));
        var lookup = requests[0];
        Assert.Equal(("GET", "/api/v3/repos/acme/actions/deployments"), (lookup.Method, lookup.Path));
        Assert.Equal(Sha, lookup.Query["sha"]);
        Assert.Equal("beta", lookup.Query["environment"]);
        Assert.All(requests.Skip(1), r => Assert.Equal($"/api/v3/repos/acme/actions/deployments/{jobDeployment}/statuses", r.Path));
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
        var recorder = DeploymentRecorder.Create(null, Api.BaseAddress, new DeploymentRequest(new GitHubRepository("acme", "tokenless"), "beta", Sha), false, _log.Logger);
        await recorder.StartAsync(Ct);
        await recorder.SucceededAsync(null, null, Ct);
        Assert.Contains(_log.Messages(LogEventLevel.Information), m => m.Contains("GitHub deployment record skipped: no token"));
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
