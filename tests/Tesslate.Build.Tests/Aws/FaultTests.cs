using System.Net;
using System.Net.Sockets;
using Tesslate.Build.Aws;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

[Collection("moto")]
public sealed class FaultTests(MotoFixture moto) : MotoTests(moto)
{
    [Fact]
    public async Task Injected_5xx_and_throttling_are_retried_until_the_call_succeeds()
    {
        await Moto.AwsCliAsync("ecr", "create-repository", "--repository-name", "tesslate-backend");
        await using var proxy = await FaultInjectingProxy.StartAsync(Moto.Url, failures: 2);
        using var session = Session(new AwsOptions { MaxAttempts = 4, RetryBaseDelay = TimeSpan.FromMilliseconds(10) }, proxy.Url);
        var repositories = await session.Ecr.DescribeRepositoriesAsync(["tesslate-backend"], TestContext.Current.CancellationToken);
        Assert.Single(repositories);
        Assert.Equal(3, proxy.Requests);
        Assert.Equal(2, Log.Lines.Count(l => l.Contains("retrying", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Persistent_5xx_fails_after_the_last_attempt_as_a_transient_error()
    {
        await using var proxy = await FaultInjectingProxy.StartAsync(Moto.Url, failures: 100);
        using var session = Session(new AwsOptions { MaxAttempts = 3, RetryBaseDelay = TimeSpan.FromMilliseconds(10) }, proxy.Url);
        var error = await Assert.ThrowsAsync<AwsTransientException>(() => session.Eks.DescribeClusterAsync("c", TestContext.Current.CancellationToken));
        Assert.Equal(3, proxy.Requests);
        Assert.Contains("HTTP 503", error.Problem);
    }

    [Fact]
    public async Task Client_errors_are_not_retried()
    {
        await using var proxy = await FaultInjectingProxy.StartAsync(Moto.Url, failures: 0);
        using var session = Session(new AwsOptions { MaxAttempts = 4, RetryBaseDelay = TimeSpan.FromMilliseconds(10) }, proxy.Url);
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => session.Ecr.DescribeRepositoriesAsync(["nope"], TestContext.Current.CancellationToken));
        Assert.Equal(1, proxy.Requests);
    }

    [Fact]
    public async Task An_endpoint_that_never_answers_is_named_with_the_timeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(); // accepts connections into the backlog and never answers
        var endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/");
        using var session = Session(new AwsOptions { CallTimeout = TimeSpan.FromSeconds(1), MaxAttempts = 2, RetryBaseDelay = TimeSpan.FromMilliseconds(10) }, endpoint);

        var ecr = await Assert.ThrowsAsync<AwsEndpointTimeoutException>(() => session.Ecr.GetAuthorizationTokenAsync(TestContext.Current.CancellationToken));
        Assert.Contains($"{endpoint.Authority} did not answer within 1 s", ecr.Problem);

        var sts = await Assert.ThrowsAsync<AwsEndpointTimeoutException>(() => session.Sts.GetCallerIdentityAsync(TestContext.Current.CancellationToken));
        Assert.Contains($"{endpoint.Authority} did not answer within 1 s", sts.Problem);
    }

    [Fact]
    public async Task A_refused_connection_names_the_endpoint()
    {
        var endpoint = new Uri($"http://127.0.0.1:{ServerProcess.FreePort()}/");
        using var session = Session(new AwsOptions { MaxAttempts = 2, RetryBaseDelay = TimeSpan.FromMilliseconds(10) }, endpoint);
        var error = await Assert.ThrowsAsync<AwsEndpointUnreachableException>(() => session.SecretsManager.GetSecretStringAsync("x", TestContext.Current.CancellationToken));
        Assert.Contains(endpoint.Authority, error.Problem);
    }
}
