using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary>Where a kind lives in the API: group/version, plural resource name, and whether it is namespaced.</summary>
public sealed record ApiResource(string Group, string Version, string Kind, string Plural, bool Namespaced)
{
    public string GroupVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>"deployments.apps", "pods": how RBAC and error messages name it.</summary>
    public string QualifiedName => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public string CollectionPath(string? ns) =>
        (Group.Length == 0 ? $"api/{Version}" : $"apis/{Group}/{Version}") + (Namespaced && ns is not null ? $"/namespaces/{Uri.EscapeDataString(ns)}" : "") + "/" + Plural;

    public string ObjectPath(string? ns, string name) => CollectionPath(ns) + "/" + Uri.EscapeDataString(name);
}

/// <summary>One cause of a refusal in the Status body: the field the server names, its reason and message.</summary>
public sealed record StatusCause(string? Field, string? Reason, string Message);

/// <summary>An API call failed with an HTTP status (the Status body's message and causes included).</summary>
public sealed class KubeApiException(HttpStatusCode status, string method, string path, string message, IReadOnlyList<StatusCause>? causes = null)
    : Exception($"{method} {path}: {(int)status} {status}: {message}")
{
    public HttpStatusCode Status { get; } = status;

    public string ApiMessage { get; } = message;

    /// <summary><c>details.causes</c> of the Status (an Invalid answer names each field it refuses).</summary>
    public IReadOnlyList<StatusCause> Causes { get; } = causes ?? [];
}

/// <summary>
/// The cluster stopped answering (connection refused or reset, a timeout): one way to recognise it and one message,
/// wherever it happens (apply, rollout wait, operations).
/// </summary>
public static class ClusterUnreachable
{
    /// <summary>A transport failure, not an API answer; a cancellation the caller asked for is not one.</summary>
    public static bool Is(Exception e, CancellationToken cancellationToken) =>
        e is HttpRequestException or IOException or TimeoutException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested);

    public const string Outcome = nameof(RolloutOutcome.ClusterUnreachable);

    /// <summary>"the cluster X (server) stopped answering while …: reason" (rollout results print it after their outcome).</summary>
    public static string Describe(KubeCluster cluster, string doing, Exception? e = null) =>
        $"the cluster {cluster.DisplayName} ({cluster.Server}) stopped answering while {doing}" + (e is null ? "" : $": {Reason(e)}");

    public const string Fix = "Check the network path to the API server (VPN, endpoint access), and that the credentials are still valid; then run the same target again.";

    private static string Reason(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null && inner is HttpRequestException or TaskCanceledException)
            inner = inner.InnerException;
        return e is TaskCanceledException ? "no answer before the client's timeout" : Secrets.Redact(inner.Message).TrimEnd('.');
    }
}

/// <summary>
/// One cluster connection for this run, built in memory (never from or into the user's current context).
/// Typed calls go through <see cref="Client"/>; generic objects (any kind) through raw REST with the same
/// credentials, TLS settings and handlers.
/// </summary>
public sealed class KubeCluster : IDisposable
{
    private readonly k8s.Kubernetes _client;
    private IReadOnlyDictionary<(string GroupVersion, string Kind), ApiResource>? _resources;
    private readonly SemaphoreSlim _discoveryGate = new(1, 1);

    /// <param name="client">A <see cref="k8s.Kubernetes"/> (its HTTP pipeline and credentials serve the generic calls too).</param>
    /// <param name="gate">What every change passes first; the client's HTTP pipeline must hold a <see cref="ChangeGateHandler"/> with it.</param>
    public KubeCluster(IKubernetes client, string displayName = "cluster", ChangeGate? gate = null)
    {
        _client = client as k8s.Kubernetes
            ?? throw new ArgumentException($"KubeCluster needs a k8s.Kubernetes client, got {client.GetType().Name}.", nameof(client));
        DisplayName = displayName;
        _gate = gate;
    }

    private readonly ChangeGate? _gate;

    /// <summary>A connection whose every write (any client call, typed or generic) passes <paramref name="gate"/> first.</summary>
    public static KubeCluster Connect(KubernetesClientConfiguration configuration, string displayName = "cluster", ChangeGate? gate = null) =>
        gate is null ? new(new k8s.Kubernetes(configuration), displayName) : new(new k8s.Kubernetes(configuration, new ChangeGateHandler(gate)), displayName, gate);

    /// <summary>For changes that do not go through HTTP (exec over a WebSocket): the same gate the writes pass.</summary>
    public Task BeforeChangeAsync(string change, CancellationToken cancellationToken) =>
        _gate?.Invoke(change, cancellationToken) ?? Task.CompletedTask;

    public IKubernetes Client => _client;

    /// <summary>How messages name this cluster (a context or EKS cluster name).</summary>
    public string DisplayName { get; }

    /// <summary>The API server's address (scheme, host, port).</summary>
    public string Server => _client.BaseUri.GetLeftPart(UriPartial.Authority);

    public void Dispose()
    {
        _client.Dispose();
        _discoveryGate.Dispose();
    }

    /// <summary>Discovery: every kind the server serves, by group/version and kind (subresources left out).</summary>
    public async Task<IReadOnlyDictionary<(string GroupVersion, string Kind), ApiResource>> DiscoverAsync(CancellationToken cancellationToken)
    {
        if (_resources is not null)
            return _resources;
        await _discoveryGate.WaitAsync(cancellationToken);
        try
        {
            if (_resources is not null)
                return _resources;
            var map = new Dictionary<(string, string), ApiResource>();
            var groupVersions = new List<(string Group, string Version)>();
            var core = await GetJsonAsync("api", cancellationToken) as JsonObject;
            foreach (var version in core?["versions"]?.AsArray() ?? [])
                groupVersions.Add(("", (string)version!));
            var groups = await GetJsonAsync("apis", cancellationToken) as JsonObject;
            foreach (var group in groups?["groups"]?.AsArray().OfType<JsonObject>() ?? [])
                foreach (var version in group["versions"]?.AsArray().OfType<JsonObject>() ?? [])
                    groupVersions.Add(((string?)group["name"] ?? "", (string?)version["version"] ?? ""));
            var lists = await Task.WhenAll(groupVersions.Select(async gv =>
                (gv, list: await GetJsonAsync(gv.Group.Length == 0 ? $"api/{gv.Version}" : $"apis/{gv.Group}/{gv.Version}", cancellationToken) as JsonObject)));
            foreach (var ((group, version), list) in lists)
                foreach (var resource in list?["resources"]?.AsArray().OfType<JsonObject>() ?? [])
                {
                    var name = (string?)resource["name"] ?? "";
                    if (name.Contains('/'))
                        continue;
                    var kind = (string?)resource["kind"] ?? "";
                    var entry = new ApiResource(group, version, kind, name, (bool?)resource["namespaced"] ?? false);
                    map.TryAdd((entry.GroupVersion, kind), entry);
                }
            _resources = map;
            return map;
        }
        finally
        {
            _discoveryGate.Release();
        }
    }

    public async Task<ApiResource?> ResolveAsync(string apiVersion, string kind, CancellationToken cancellationToken) =>
        (await DiscoverAsync(cancellationToken)).TryGetValue((apiVersion, kind), out var resource) ? resource : null;

    public async Task<ApiResource> RequireAsync(string apiVersion, string kind, CancellationToken cancellationToken) =>
        await ResolveAsync(apiVersion, kind, cancellationToken)
        ?? throw new BuildFailure($"The cluster {DisplayName} does not serve {kind} ({apiVersion}).", "Install the CRD or API it needs, or check the apiVersion.");

    /// <summary>GET an object; null when it does not exist.</summary>
    public async Task<JsonObject?> GetAsync(ApiResource resource, string? ns, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await GetJsonAsync(resource.ObjectPath(ns, name), cancellationToken) as JsonObject;
        }
        catch (KubeApiException e) when (e.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<JsonNode?> GetJsonAsync(string path, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, path, null, null, cancellationToken);

    /// <summary>Server-side apply (<c>application/apply-patch+yaml</c>; the JSON body is valid YAML).</summary>
    public async Task<JsonObject> ApplyAsync(ApiResource resource, KubeObject obj, string fieldManager, bool force, bool dryRun, CancellationToken cancellationToken)
    {
        var query = $"fieldManager={Uri.EscapeDataString(fieldManager)}" + (force ? "&force=true" : "") + (dryRun ? "&dryRun=All" : "");
        var path = resource.ObjectPath(obj.Namespace, obj.Name) + "?" + query;
        return (JsonObject)(await SendAsync(HttpMethod.Patch, path, obj.ToJson(), "application/apply-patch+yaml", cancellationToken))!;
    }

    /// <summary>A strategic-merge patch (what kubectl rollout restart sends).</summary>
    public async Task<JsonObject> StrategicPatchAsync(ApiResource resource, string? ns, string name, JsonObject patch, string fieldManager, CancellationToken cancellationToken)
    {
        var path = resource.ObjectPath(ns, name) + $"?fieldManager={Uri.EscapeDataString(fieldManager)}";
        return (JsonObject)(await SendAsync(HttpMethod.Patch, path, patch.ToJsonString(), "application/strategic-merge-patch+json", cancellationToken))!;
    }

    /// <summary>An RFC 6902 JSON patch (what kubectl sends to rewrite managedFields, guarded by a resourceVersion replace).</summary>
    public async Task<JsonObject> JsonPatchAsync(ApiResource resource, string? ns, string name, JsonArray patch, string fieldManager, CancellationToken cancellationToken)
    {
        var path = resource.ObjectPath(ns, name) + $"?fieldManager={Uri.EscapeDataString(fieldManager)}";
        return (JsonObject)(await SendAsync(HttpMethod.Patch, path, patch.ToJsonString(), "application/json-patch+json", cancellationToken))!;
    }

    /// <summary>
    /// Watches one object from a resourceVersion: yields (type, object) per event until the server ends the stream.
    /// Transport errors surface to the caller, which decides about retries.
    /// </summary>
    public async IAsyncEnumerable<(string Type, JsonObject Object)> WatchAsync(ApiResource resource, string? ns, string name, string? resourceVersion,
        TimeSpan serverTimeout, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var path = resource.CollectionPath(ns) + $"?watch=true&fieldSelector={Uri.EscapeDataString("metadata.name=" + name)}"
            + (resourceVersion is null ? "" : $"&resourceVersion={Uri.EscapeDataString(resourceVersion)}")
            + $"&timeoutSeconds={(int)Math.Max(1, serverTimeout.TotalSeconds)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_client.BaseUri, path));
        if (_client.Credentials is not null)
            await _client.Credentials.ProcessHttpRequestAsync(request, cancellationToken);
        using var response = await _client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new KubeApiException(response.StatusCode, "WATCH", path.Split('?')[0], await response.Content.ReadAsStringAsync(cancellationToken));
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
                continue;
            var node = JsonNode.Parse(line);
            var type = (string?)node?["type"] ?? "";
            if (type == "ERROR")
            {
                var code = (int?)node?["object"]?["code"] ?? 500;
                throw new KubeApiException((HttpStatusCode)code, "WATCH", path.Split('?')[0], (string?)node?["object"]?["message"] ?? "watch error");
            }
            if (node?["object"] is JsonObject obj)
                yield return (type, obj);
        }
    }

    /// <summary>LIST a collection with an optional label selector and field selector.</summary>
    public async Task<IReadOnlyList<JsonObject>> ListAsync(ApiResource resource, string? ns, string? labelSelector, string? fieldSelector, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(labelSelector))
            query.Add("labelSelector=" + Uri.EscapeDataString(labelSelector));
        if (!string.IsNullOrEmpty(fieldSelector))
            query.Add("fieldSelector=" + Uri.EscapeDataString(fieldSelector));
        var list = await GetJsonAsync(resource.CollectionPath(ns) + (query.Count == 0 ? "" : "?" + string.Join('&', query)), cancellationToken);
        return [.. list?["items"]?.AsArray().OfType<JsonObject>() ?? []];
    }

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, string? body, string? contentType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(_client.BaseUri, path));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/json");
        }
        if (_client.Credentials is not null)
            await _client.Credentials.ProcessHttpRequestAsync(request, cancellationToken);
        using var response = await _client.HttpClient.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            string message = text;
            var causes = new List<StatusCause>();
            try
            {
                var status = JsonNode.Parse(text);
                message = (string?)status?["message"] ?? text;
                foreach (var cause in status?["details"]?["causes"]?.AsArray().OfType<JsonObject>() ?? [])
                    causes.Add(new StatusCause((string?)cause["field"], (string?)cause["reason"], Secrets.Redact((string?)cause["message"] ?? "")));
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
            {
            }
            throw new KubeApiException(response.StatusCode, method.Method, path.Split('?')[0], Secrets.Redact(message), causes);
        }
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }
}
