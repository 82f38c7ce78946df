using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Registry;

public sealed record RegistryCredentials(string Username, string Password);

/// <summary>Gives the Basic credentials for a registry (ECR's from its login token, none for a local registry).</summary>
public interface IRegistryCredentialProvider
{
    Task<RegistryCredentials?> GetAsync(string registry, CancellationToken cancellationToken);
}

public sealed class StaticRegistryCredentials(RegistryCredentials? credentials) : IRegistryCredentialProvider
{
    public Task<RegistryCredentials?> GetAsync(string registry, CancellationToken cancellationToken)
    {
        if (credentials is not null)
            Secrets.RegisterBasicCredentials(credentials.Username, credentials.Password);
        return Task.FromResult(credentials);
    }
}

/// <summary>A manifest exactly as the registry stores it: re-putting these bytes with this media type gives the same digest.</summary>
public sealed record RegistryManifest(string MediaType, byte[] Content, string Digest)
{
    public bool IsIndex => MediaType is RegistryClient.OciIndex or RegistryClient.DockerManifestList;

    public JsonDocument Parse() => JsonDocument.Parse(Content);
}

/// <summary>
/// The registry v2 (distribution) HTTP API, as ECR and the distribution registry both speak it: manifest HEAD/GET/PUT and
/// tag lists, plain HTTP for localhost and 127.0.0.0/8 (as Docker treats them) and HTTPS otherwise, Basic credentials or
/// a Bearer token obtained with them on a challenge, and retries with backoff on transient errors.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    private static readonly string[] ManifestTypes = [OciIndex, DockerManifestList, OciManifest, DockerManifest];

    private readonly HttpClient _http;
    private readonly IRegistryCredentialProvider _credentials;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;
    private readonly Dictionary<string, AuthenticationHeaderValue> _authorizations = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public RegistryClient(string registry, IRegistryCredentialProvider? credentials = null, ILogger? logger = null, bool dryRun = false,
        HttpMessageHandler? handler = null, RetryStrategyOptions<HttpResponseMessage>? retry = null)
    {
        Registry = registry;
        DryRun = dryRun;
        BaseAddress = new Uri($"{(IsPlainHttp(registry) ? "http" : "https")}://{ApiHost(registry)}/");
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.Timeout = TimeSpan.FromSeconds(60);
        _credentials = credentials ?? new StaticRegistryCredentials(null);
        _logger = logger ?? Serilog.Core.Logger.None;
        _retry = new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(retry ?? DefaultRetry(_logger, registry)).Build();
    }

    /// <summary>The registry as written in image names: <c>host[:port]</c>.</summary>
    public string Registry { get; }

    /// <summary>How the caller's user logs in to the registry (the pipeline: its EcrLogin target for ECR), for the fix of a refusal; null: not offered.</summary>
    public string? LoginSetting { get; init; }

    public Uri BaseAddress { get; }

    public bool DryRun { get; }

    /// <summary>Docker talks plain HTTP to localhost and 127.0.0.0/8 without configuration; so do we.</summary>
    public static bool IsPlainHttp(string registry)
    {
        var host = registry.StartsWith('[') ? registry[1..registry.IndexOf(']')] : registry.Split(':')[0];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host == "::1")
            return true;
        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }

    private static string ApiHost(string registry) => registry == ImageReference.DockerHub ? "registry-1.docker.io" : registry;

    public static RetryStrategyOptions<HttpResponseMessage> DefaultRetry(ILogger logger, string registry) => new()
    {
        MaxRetryAttempts = 4,
        Delay = TimeSpan.FromMilliseconds(500),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<TaskCanceledException>(e => e.InnerException is TimeoutException)
            .HandleResult(r => IsTransient(r.StatusCode)),
        OnRetry = args =>
        {
            logger.Warning("Registry {Registry}: transient error ({Reason}); retry {Attempt} in {Delay}", registry,
                args.Outcome.Exception?.Message ?? ((int?)args.Outcome.Result?.StatusCode)?.ToString(), args.AttemptNumber + 1, Durations.Format(args.RetryDelay));
            return ValueTask.CompletedTask;
        },
    };

    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout or HttpStatusCode.RequestTimeout;

    /// <summary>The digest a tag or digest points at, or null when the registry does not have it (HEAD, no body transferred).</summary>
    public async Task<string?> GetDigestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Head, repository, $"manifests/{reference}", null, cancellationToken, accept: ManifestTypes);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        await EnsureSuccessAsync(response, "HEAD", repository, reference, cancellationToken);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values))
            return values.First();
        // Some registries omit the header on HEAD: fetch the manifest and hash it.
        return (await GetManifestAsync(repository, reference, cancellationToken))?.Digest;
    }

    public async Task<bool> ExistsAsync(string repository, string reference, CancellationToken cancellationToken) =>
        await GetDigestAsync(repository, reference, cancellationToken) is not null;

    public async Task<RegistryManifest?> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, repository, $"manifests/{reference}", null, cancellationToken, accept: ManifestTypes);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        await EnsureSuccessAsync(response, "GET", repository, reference, cancellationToken);
        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? MediaTypeOf(content);
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First() : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
        return new RegistryManifest(mediaType, content, digest);
    }

    /// <summary>Puts a manifest under a tag: the same bytes and Content-Type, so the digest is unchanged and no layer moves.</summary>
    public async Task PutManifestAsync(string repository, string tag, RegistryManifest manifest, CancellationToken cancellationToken)
    {
        if (DryRun)
        {
            _logger.Information("[dry-run] registry: PUT {Url} ({MediaType:l}, {Digest:l})", new Uri(BaseAddress, $"v2/{repository}/manifests/{tag}"), manifest.MediaType, manifest.Digest);
            return;
        }
        using var response = await SendAsync(HttpMethod.Put, repository, $"manifests/{tag}", () =>
        {
            var content = new ByteArrayContent(manifest.Content);
            content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
            return content;
        }, cancellationToken, push: true);
        await EnsureSuccessAsync(response, "PUT", repository, tag, cancellationToken);
    }

    /// <summary>Moves <paramref name="tag"/> to what <paramref name="sourceReference"/> points at; returns the digest.</summary>
    public async Task<string> RetagAsync(string repository, string sourceReference, string tag, CancellationToken cancellationToken)
    {
        var manifest = await GetManifestAsync(repository, sourceReference, cancellationToken)
            ?? throw new BuildFailure($"Registry {Registry}: {repository}:{sourceReference} does not exist, so it cannot be tagged '{tag}'.",
                "Build and push the image first.");
        await PutManifestAsync(repository, tag, manifest, cancellationToken);
        return manifest.Digest;
    }

    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, repository, "tags/list", null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return [];
        await EnsureSuccessAsync(response, "GET", repository, "tags/list", cancellationToken);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
        return document.RootElement.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? [.. tags.EnumerateArray().Select(t => t.GetString()!).Order(StringComparer.Ordinal)]
            : [];
    }

    public async Task<byte[]> GetBlobAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(HttpMethod.Get, repository, $"blobs/{digest}", null, cancellationToken);
        await EnsureSuccessAsync(response, "GET", repository, digest, cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    /// <summary>The labels of an image (from its config blob; for an index, from its first linux/amd64 or first manifest).</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetLabelsAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        var manifest = await GetManifestAsync(repository, reference, cancellationToken)
            ?? throw new BuildFailure($"Registry {Registry}: {repository}:{reference} does not exist.");
        using var document = manifest.Parse();
        if (manifest.IsIndex)
        {
            var child = document.RootElement.GetProperty("manifests").EnumerateArray()
                .OrderByDescending(m => m.TryGetProperty("platform", out var p) && p.GetProperty("architecture").GetString() == "amd64").First();
            return await GetLabelsAsync(repository, child.GetProperty("digest").GetString()!, cancellationToken);
        }
        var configDigest = document.RootElement.GetProperty("config").GetProperty("digest").GetString()!;
        using var config = JsonDocument.Parse(await GetBlobAsync(repository, configDigest, cancellationToken));
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (config.RootElement.TryGetProperty("config", out var imageConfig) && imageConfig.TryGetProperty("Labels", out var found) && found.ValueKind == JsonValueKind.Object)
        {
            foreach (var label in found.EnumerateObject())
                labels[label.Name] = label.Value.GetString() ?? "";
        }
        return labels;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string repository, string path, Func<HttpContent>? content,
        CancellationToken cancellationToken, string[]? accept = null, bool push = false)
    {
        var uri = new Uri(BaseAddress, $"v2/{repository}/{path}");
        if (DryRun)
            _logger.Information("[dry-run] registry: {Method:l} {Url}", method, uri);
        var scope = $"repository:{repository}:{(push ? "pull,push" : "pull")}";
        HttpRequestMessage Create()
        {
            var request = new HttpRequestMessage(method, uri) { Content = content?.Invoke() };
            foreach (var type in accept ?? [])
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            lock (_gate)
            {
                if (_authorizations.TryGetValue(scope, out var authorization) || _authorizations.TryGetValue("basic", out authorization))
                    request.Headers.Authorization = authorization;
            }
            return request;
        }

        try
        {
            var response = await _retry.ExecuteAsync(async token => await _http.SendAsync(Create(), token), cancellationToken);
            if (response.StatusCode != HttpStatusCode.Unauthorized
                || !await AuthenticateAsync(response, scope, response.RequestMessage?.Headers.Authorization, cancellationToken))
                return response;
            response.Dispose();
            return await _retry.ExecuteAsync(async token => await _http.SendAsync(Create(), token), cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new BuildFailure($"Registry {Registry} did not answer {method} {uri}: {e.Message}",
                $"Check that the registry is running and reachable ({BaseAddress}).", e);
        }
    }

    /// <summary>
    /// Answers a 401 challenge: Basic with the provider's credentials, or a Bearer token fetched with them. Requests run in
    /// parallel, so a 401 is judged by what <paramref name="sent"/> carried: a request sent before another one stored the
    /// credentials retries with them; only credentials this request itself carried were refused.
    /// </summary>
    private async Task<bool> AuthenticateAsync(HttpResponseMessage response, string scope, AuthenticationHeaderValue? sent, CancellationToken cancellationToken)
    {
        var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
        if (challenge is null)
            return false;
        lock (_gate)
        {
            // Another request answered the challenge while this one was on the wire: retry with its answer, once.
            if ((_authorizations.TryGetValue(scope, out var stored) || _authorizations.TryGetValue("basic", out stored)) && !SameAuthorization(stored, sent))
                return true;
        }
        var credentials = await _credentials.GetAsync(Registry, cancellationToken);
        if (credentials is not null)
            Secrets.RegisterBasicCredentials(credentials.Username, credentials.Password);
        var basic = credentials is null ? null
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}")));
        if (challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            if (basic is null)
                return false;
            if (SameAuthorization(basic, sent))
                return false; // this request carried these very credentials: they were refused
            lock (_gate)
                _authorizations["basic"] = basic;
            return true;
        }
        if (!challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) || challenge.Parameter is null)
            return false;
        var parameters = challenge.Parameter.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim().Trim('"'), StringComparer.OrdinalIgnoreCase);
        if (!parameters.TryGetValue("realm", out var realm))
            return false;
        var query = $"?service={Uri.EscapeDataString(parameters.GetValueOrDefault("service", ""))}&scope={Uri.EscapeDataString(parameters.GetValueOrDefault("scope", scope))}";
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, realm + query);
        tokenRequest.Headers.Authorization = basic;
        using var tokenResponse = await _http.SendAsync(tokenRequest, cancellationToken);
        if (!tokenResponse.IsSuccessStatusCode)
            return false;
        using var document = JsonDocument.Parse(await tokenResponse.Content.ReadAsStreamAsync(cancellationToken));
        var token = document.RootElement.TryGetProperty("token", out var t) ? t.GetString()
            : document.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null;
        if (token is null)
            return false;
        Secrets.Register(token);
        lock (_gate)
            _authorizations[scope] = new AuthenticationHeaderValue("Bearer", token);
        return true;
    }

    private static bool SameAuthorization(AuthenticationHeaderValue? a, AuthenticationHeaderValue? b) =>
        a is not null && b is not null && a.Scheme.Equals(b.Scheme, StringComparison.OrdinalIgnoreCase) && a.Parameter == b.Parameter;

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string method, string repository, string reference, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return;
        var body = method == "HEAD" ? "" : await response.Content.ReadAsStringAsync(cancellationToken);
        if (body.Length > 500)
            body = body[..500];
        var fix = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => $"Log in to {Registry}{(LoginSetting is null ? "" : $" ({LoginSetting})")}, and check the credentials may {(method == "PUT" ? "push to" : "read")} {repository}.",
            HttpStatusCode.MethodNotAllowed => $"The registry {Registry} refuses writes (read-only mode or a pull-through cache).",
            _ => $"Check the registry {Registry} is healthy, and that the repository {repository} exists.",
        };
        throw new BuildFailure($"Registry {Registry}: {method} {repository}:{reference} failed with {(int)response.StatusCode} {response.ReasonPhrase}. {body}".Trim(), fix);
    }

    private static string MediaTypeOf(byte[] content)
    {
        using var document = JsonDocument.Parse(content);
        return document.RootElement.TryGetProperty("mediaType", out var mediaType) ? mediaType.GetString() ?? OciManifest : OciManifest;
    }

    public void Dispose() => _http.Dispose();
}
