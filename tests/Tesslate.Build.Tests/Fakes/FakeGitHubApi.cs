using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tesslate.Build.Tests.GitHub;

public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, JsonElement? Body, string? Authorization);

/// <summary>
/// A fake of GitHub's REST deployments API on Kestrel (127.0.0.1, a free port), under the <c>/api/v3/</c> prefix that
/// Octokit uses for any server other than github.com. It records every request per repository and answers like GitHub.
/// Faults are chosen by name so tests sharing one server never interfere: repository <c>missing</c> answers 404,
/// <c>limited</c> answers 403 with exhausted rate-limit headers, token <c>bad-token</c> answers 401.
/// </summary>
public sealed class FakeGitHubApi : IAsyncDisposable
{
    public const string BadToken = "bad-token";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, List<RecordedRequest>> _requests = new();
    private readonly ConcurrentDictionary<string, List<JsonElement>> _deployments = new();
    private long _nextId = 1000;

    private FakeGitHubApi(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<FakeGitHubApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeGitHubApi(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        fake.BaseAddress = new Uri(addresses.Single() + "/");
        return fake;
    }

    public IReadOnlyList<RecordedRequest> Requests(string owner, string repository) =>
        _requests.TryGetValue($"{owner}/{repository}", out var list) ? [.. list] : [];

    /// <summary>A deployment GitHub created itself (as for a job with <c>environment:</c>).</summary>
    public long SeedDeployment(string owner, string repository, string sha, string environment)
    {
        var id = Interlocked.Increment(ref _nextId);
        _deployments.GetOrAdd($"{owner}/{repository}", _ => []).Add(Deployment(id, sha, environment));
        return id;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var segments = context.Request.Path.Value!.Trim('/').Split('/');
        // api/v3/repos/{owner}/{repo}/deployments[/{id}/statuses]
        if (segments is not ["api", "v3", "repos", var owner, var repository, "deployments", ..])
        {
            await Respond(context, 404, new { message = $"Not Found: {context.Request.Method} {context.Request.Path}" });
            return;
        }
        var key = $"{owner}/{repository}";
        JsonElement? body = null;
        if (context.Request.ContentLength is > 0 || context.Request.Method == "POST")
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body);
            body = document.RootElement.Clone();
        }
        var authorization = context.Request.Headers.Authorization.ToString();
        lock (_requests)
            _requests.GetOrAdd(key, _ => []).Add(new RecordedRequest(context.Request.Method, context.Request.Path.Value!,
                context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()), body, authorization));

        if (authorization.EndsWith(BadToken, StringComparison.Ordinal))
        {
            await Respond(context, 401, new { message = "Bad credentials", documentation_url = "https://docs.github.com/rest" });
            return;
        }
        if (repository == "missing")
        {
            await Respond(context, 404, new { message = "Not Found", documentation_url = "https://docs.github.com/rest" });
            return;
        }
        if (repository == "limited")
        {
            context.Response.Headers["X-RateLimit-Limit"] = "5000";
            context.Response.Headers["X-RateLimit-Remaining"] = "0";
            context.Response.Headers["X-RateLimit-Reset"] = DateTimeOffset.UtcNow.AddMinutes(30).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Respond(context, 403, new { message = "API rate limit exceeded for installation.", documentation_url = "https://docs.github.com/rest/rate-limit" });
            return;
        }

        var deployments = _deployments.GetOrAdd(key, _ => []);
        switch (context.Request.Method, segments.Length)
        {
            case ("POST", 6):
                {
                    var id = Interlocked.Increment(ref _nextId);
                    var created = Deployment(id, body!.Value.GetProperty("ref").GetString()!, body.Value.GetProperty("environment").GetString()!,
                        body.Value.TryGetProperty("description", out var description) ? description.GetString() : null,
                        body.Value.TryGetProperty("payload", out var payload) ? payload.Clone() : null);
                    lock (deployments)
                        deployments.Add(created);
                    await Respond(context, 201, created);
                    return;
                }
            case ("GET", 6):
                {
                    var sha = context.Request.Query["sha"].ToString();
                    var environment = context.Request.Query["environment"].ToString();
                    List<JsonElement> matching;
                    lock (deployments)
                        matching = [.. deployments.Where(d => (sha.Length == 0 || d.GetProperty("sha").GetString() == sha)
                        && (environment.Length == 0 || d.GetProperty("environment").GetString() == environment)).Reverse()];
                    await Respond(context, 200, matching);
                    return;
                }
            case ("POST", 8) when segments[7] == "statuses" && long.TryParse(segments[6], out var deploymentId):
                {
                    bool known;
                    lock (deployments)
                        known = deployments.Any(d => d.GetProperty("id").GetInt64() == deploymentId);
                    if (!known)
                    {
                        await Respond(context, 404, new { message = "Not Found" });
                        return;
                    }
                    await Respond(context, 201, new { id = Interlocked.Increment(ref _nextId), state = body!.Value.GetProperty("state").GetString(), created_at = DateTimeOffset.UtcNow, updated_at = DateTimeOffset.UtcNow });
                    return;
                }
            default:
                await Respond(context, 404, new { message = "Not Found" });
                return;
        }
    }

    // As GitHub answers: the payload as given (an empty object when none was), the description or null.
    private static JsonElement Deployment(long id, string sha, string environment, string? description = null, JsonElement? payload = null) => JsonSerializer.SerializeToElement(new
    {
        id,
        sha,
        @ref = sha,
        task = "deploy",
        payload = payload ?? JsonSerializer.SerializeToElement(new { }),
        environment,
        description,
        created_at = DateTimeOffset.UtcNow,
        updated_at = DateTimeOffset.UtcNow,
    });

    /// <summary>The deployments of a repository as the API returns them, newest first.</summary>
    public IReadOnlyList<JsonElement> Deployments(string owner, string repository)
    {
        var deployments = _deployments.GetOrAdd($"{owner}/{repository}", _ => []);
        lock (deployments)
            return [.. deployments.AsEnumerable().Reverse()];
    }

    private static Task Respond(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One fake GitHub API for the whole test run.</summary>
public sealed class FakeGitHubApiFixture : Xunit.IAsyncLifetime
{
    public FakeGitHubApi Api { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Api = await FakeGitHubApi.StartAsync();

    public async ValueTask DisposeAsync() => await Api.DisposeAsync();
}
