using System.Net;
using System.Text;
using Polly.Retry;
using Tesslate.Build.Engine;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed class RegistryClientTests
{
    [Theory]
    [InlineData("localhost:5000", true)]
    [InlineData("localhost", true)]
    [InlineData("127.0.0.1:5000", true)]
    [InlineData("127.1.2.3:80", true)]
    [InlineData("[::1]:5000", true)]
    [InlineData("123456789012.dkr.ecr.us-east-1.amazonaws.com", false)]
    [InlineData("10.0.0.5:5000", false)]
    public void Plain_http_only_for_loopback_registries(string registry, bool plain)
    {
        Assert.Equal(plain, RegistryClient.IsPlainHttp(registry));
        using var client = new RegistryClient(registry);
        Assert.Equal(plain ? "http" : "https", client.BaseAddress.Scheme);
    }

    [Fact]
    public async Task Transient_errors_are_retried_and_basic_credentials_answer_a_challenge()
    {
        Secrets.BeginScope();
        var handler = new FaultInjectingRegistry();
        using var client = new RegistryClient("registry.example.com", new StaticRegistryCredentials(new RegistryCredentials("AWS", "s3cret-password")),
            handler: handler, retry: new RetryStrategyOptions<HttpResponseMessage> { MaxRetryAttempts = 3, Delay = TimeSpan.FromMilliseconds(1), ShouldHandle = RegistryClient.DefaultRetry(Serilog.Core.Logger.None, "r").ShouldHandle });
        var digest = await client.GetDigestAsync("tesslate-backend", "git-abc", TestContext.Current.CancellationToken);
        Assert.Equal("sha256:feed", digest);
        Assert.Equal(["none", "none", "Basic QVdTOnMzY3JldC1wYXNzd29yZA=="], handler.Authorizations);
        Assert.Equal("[REDACTED]", Secrets.Redact("s3cret-password"));
    }

    [Fact]
    public async Task Errors_name_the_registry_and_the_image()
    {
        using var client = new RegistryClient("registry.example.com", handler: new FaultInjectingRegistry { Status = HttpStatusCode.Forbidden },
            retry: new RetryStrategyOptions<HttpResponseMessage> { MaxRetryAttempts = 1, Delay = TimeSpan.FromMilliseconds(1) });
        var error = await Assert.ThrowsAsync<BuildFailure>(() => client.GetManifestAsync("tesslate-ast", "src-1", TestContext.Current.CancellationToken));
        Assert.Contains("Registry registry.example.com: GET tesslate-ast:src-1 failed with 403", error.Problem);
    }

    /// <summary>Injects faults no real registry produces on demand: a 503 first, then a Basic challenge, then the answer.</summary>
    private sealed class FaultInjectingRegistry : HttpMessageHandler
    {
        private int _calls;

        public HttpStatusCode? Status { get; init; }

        public List<string> Authorizations { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Authorizations.Add(request.Headers.Authorization?.ToString() ?? "none");
            if (Status is { } status)
                return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent("{\"errors\":[{\"code\":\"DENIED\"}]}") });
            var response = _calls++ switch
            {
                0 => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable),
                1 => new HttpResponseMessage(HttpStatusCode.Unauthorized) { Headers = { { "WWW-Authenticate", "Basic realm=\"r\"" } } },
                _ => new HttpResponseMessage(HttpStatusCode.OK) { Headers = { { "Docker-Content-Digest", "sha256:feed" } }, Content = new ByteArrayContent(Encoding.UTF8.GetBytes("{}")) },
            };
            return Task.FromResult(response);
        }
    }
}

/// <summary>The registry client against a real password-protected registry (a Basic challenge, as ECR answers).</summary>
public sealed class AuthenticatedRegistryClientTests(AuthenticatedRegistryFixture registry) : IClassFixture<AuthenticatedRegistryFixture>
{
    [Fact]
    public async Task Parallel_requests_that_meet_the_challenge_together_all_authenticate()
    {
        const int parallel = 6;
        await using var proxy = await FaultInjectingProxy.StartAsync(new Uri($"http://{registry.Registry}/"), failures: 0, gather: parallel);
        using var client = new RegistryClient(proxy.Url.Authority,
            new StaticRegistryCredentials(new RegistryCredentials(AuthenticatedRegistryFixture.Username, AuthenticatedRegistryFixture.Password)));

        var digests = await Task.WhenAll(Enumerable.Range(0, parallel)
            .Select(i => client.GetDigestAsync($"tesslate-image-{i}", "src-missing", TestContext.Current.CancellationToken)));

        Assert.True(proxy.Gathered, $"the first {parallel} requests did not arrive together: {string.Join(", ", proxy.Seen)}");
        Assert.All(digests, Assert.Null); // authenticated, and the registry says: no such tag
    }

    [Fact]
    public async Task Credentials_the_registry_refuses_fail_once_with_401_naming_the_registry()
    {
        // The caller's words for logging in (the pipeline: its EcrLogin target): the client names no target itself.
        using var client = new RegistryClient(registry.Registry, new StaticRegistryCredentials(new RegistryCredentials("AWS", "wrong-password"))) { LoginSetting = "sign-in first" };
        var errors = await Task.WhenAll(Enumerable.Range(0, 3).Select(i =>
            Assert.ThrowsAsync<BuildFailure>(() => client.GetDigestAsync($"tesslate-image-{i}", "src-x", TestContext.Current.CancellationToken))));
        Assert.All(errors, e => Assert.Contains($"Registry {registry.Registry}: HEAD tesslate-image-", e.Problem));
        Assert.All(errors, e => Assert.Contains("401", e.Problem));
        Assert.All(errors, e => Assert.StartsWith($"Log in to {registry.Registry} (sign-in first), and check the credentials may read tesslate-image-", e.Fix));
    }
}
