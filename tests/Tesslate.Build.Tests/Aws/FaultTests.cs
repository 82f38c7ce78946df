using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
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
        var endpoint = new Uri($"http://127.0.0.1:{MotoServer.FreePort()}/");
        using var session = Session(new AwsOptions { MaxAttempts = 2, RetryBaseDelay = TimeSpan.FromMilliseconds(10) }, endpoint);
        var error = await Assert.ThrowsAsync<AwsEndpointUnreachableException>(() => session.SecretsManager.GetSecretStringAsync("x", TestContext.Current.CancellationToken));
        Assert.Contains(endpoint.Authority, error.Problem);
    }
}

/// <summary>A loopback proxy (in front of moto, or a registry) that answers the first N requests with 503/throttling, then forwards; it records each request's method and path.</summary>
internal sealed class FaultInjectingProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private FaultInjectingProxy(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public int Requests => _requests;

    /// <summary>"METHOD /path" of every request, in arrival order.</summary>
    public IReadOnlyCollection<string> Seen => _seen;

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _seen = new();

    public static async Task<FaultInjectingProxy> StartAsync(Uri target, int failures)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FaultInjectingProxy? self = null;
        var http = new HttpClient();
        app.Run(async context =>
        {
            var count = Interlocked.Increment(ref self!._requests);
            self._seen.Enqueue($"{context.Request.Method} {context.Request.Path}");
            if (count <= failures)
            {
                context.Response.StatusCode = 503;
                context.Response.ContentType = "application/x-amz-json-1.1";
                await context.Response.WriteAsync(count % 2 == 0
                    ? """{"__type":"ThrottlingException","message":"Rate exceeded (injected)"}"""
                    : """{"__type":"ServiceUnavailableException","message":"injected"}""");
                return;
            }
            using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(target, context.Request.Path.Value!.TrimStart('/') + context.Request.QueryString));
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            forward.Content = new ByteArrayContent(body.ToArray());
            foreach (var (name, values) in context.Request.Headers)
            {
                if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
                {
                    if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                        forward.Content.Headers.TryAddWithoutValidation(name, values.ToArray());
                    continue;
                }
                forward.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
            using var response = await http.SendAsync(forward);
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers)
            {
                if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && !name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                    context.Response.Headers[name] = values.ToArray();
            }
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            await context.Response.Body.WriteAsync(await response.Content.ReadAsByteArrayAsync());
        });
        await app.StartAsync();
        var address = app.Urls.First();
        self = new FaultInjectingProxy(app, new Uri(address.TrimEnd('/') + "/"));
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
