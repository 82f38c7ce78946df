using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tesslate.Build.Tests.Fakes;

public sealed record FakeKubeApiOptions
{
    /// <summary>Simulated seconds per real second; 0 freezes time so only <see cref="FakeClock.Advance"/> moves it.</summary>
    public double ClockSpeed { get; init; } = 1.0;

    /// <summary>Where the fake cluster's clock starts (default: now); in the past, seeded objects are that old.</summary>
    public DateTimeOffset? ClockStart { get; init; }

    /// <summary>Nodes in the cluster: the desiredNumberScheduled of every DaemonSet.</summary>
    public int NodeCount { get; init; } = 3;

    /// <summary>How long any workload's rollout takes unless set per workload (<see cref="Simulation.SetRolloutDuration"/>).</summary>
    public TimeSpan DefaultRolloutDuration { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The bearer tokens accepted; the default accepts any non-empty token.</summary>
    public Func<string, bool> AcceptToken { get; init; } = token => token.Length > 0;
}

public enum OutageMode
{
    /// <summary>Requests hang until the outage ends or the client gives up.</summary>
    Hang,

    /// <summary>Connections are reset at once.</summary>
    Reset,

    /// <summary>Requests answer 503 ServiceUnavailable.</summary>
    Unavailable,
}

public sealed record RecordedRequest(string Method, string Path, string Query, string? ContentType, string? FieldManager, bool DryRun)
{
    /// <summary>What a POST, PUT or PATCH sent (what the pipeline asked the cluster to store).</summary>
    public string? Body { get; init; }
}

/// <summary>
/// A fake Kubernetes API server on 127.0.0.1 with a random port, for KubernetesClient: discovery, a generic object
/// store with watch, server-side apply and patches, simulated Deployment/DaemonSet/StatefulSet controllers on a
/// controllable clock, pod fault injection, events, SelfSubjectAccessReview with denials, pod logs and pods/exec.
/// See README.md in this folder.
/// </summary>
public sealed class FakeKubeApi : IAsyncDisposable
{
    private static readonly string[] SystemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];
    private readonly FakeKubeApiOptions _options;
    private readonly Controllers _controllers;
    private readonly List<RecordedRequest> _requests = [];
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private Task? _ticker;
    private volatile OutageState? _outage;
    private volatile TaskCompletionSource _outageOver = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record OutageState(OutageMode Mode);

    private FakeKubeApi(FakeKubeApiOptions options)
    {
        _options = options;
        Clock = new FakeClock(options.ClockStart ?? DateTimeOffset.UtcNow, options.ClockSpeed);
        Store = new KubeObjectStore(Clock);
        Simulation = new Simulation { DefaultRolloutDuration = options.DefaultRolloutDuration };
        _controllers = new Controllers(Store, Clock, Simulation, Faults);
        Clock.Advanced += Tick;
    }

    /// <summary>http://127.0.0.1:port, for KubernetesClientConfiguration.Host.</summary>
    public string Url { get; private set; } = "";

    public FakeClock Clock { get; }
    public KubeObjectStore Store { get; }
    public Simulation Simulation { get; }
    public PodFaults Faults { get; } = new();
    public AccessRules Access { get; } = new();
    public FakeExec Exec { get; } = new();

    /// <summary>The last exception a controller tick threw (a bug in the fake), for tests to assert on.</summary>
    public Exception? ControllerError { get; private set; }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Requests that would change the cluster (create, update, patch, delete; not dry runs or access reviews).</summary>
    public IReadOnlyList<RecordedRequest> Mutations => Requests.Where(IsMutation).ToList();

    private static bool IsMutation(RecordedRequest r) => r.Method is "POST" or "PUT" or "PATCH" or "DELETE" && !r.DryRun
        && !r.Path.EndsWith("/selfsubjectaccessreviews", StringComparison.Ordinal) && !r.Path.EndsWith("/exec", StringComparison.Ordinal);

    public static async Task<FakeKubeApi> StartAsync(FakeKubeApiOptions? options = null, CancellationToken ct = default)
    {
        var fake = new FakeKubeApi(options ?? new FakeKubeApiOptions());
        await fake.StartCoreAsync(ct);
        return fake;
    }

    /// <summary>A client for this server; the token is any non-empty string unless the options say otherwise.</summary>
    public IKubernetes CreateClient(string token = "fake-token") =>
        new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Url, AccessToken = token });

    public void ClearRequests()
    {
        lock (_requests)
        {
            _requests.Clear();
        }
    }

    /// <summary>Adds or removes nodes; DaemonSets follow.</summary>
    public void SetNodeCount(int count)
    {
        var nodes = Store.List(KubeResources.Nodes).Select(n => n.Str("metadata", "name")!).ToList();
        for (var i = 0; i < Math.Max(count, nodes.Count); i++)
        {
            var name = $"fake-node-{i}";
            if (i < count && !nodes.Contains(name))
            {
                Store.Create(KubeResources.Nodes, null, new JsonObject
                {
                    ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["kubernetes.io/hostname"] = name, ["kubernetes.io/arch"] = "amd64", ["kubernetes.io/os"] = "linux" } },
                    ["status"] = new JsonObject
                    {
                        ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True", ["reason"] = "KubeletReady" }),
                        ["nodeInfo"] = new JsonObject { ["architecture"] = "amd64", ["operatingSystem"] = "linux", ["kubeletVersion"] = "v1.32.0" },
                    },
                });
            }
            else if (i >= count && nodes.Contains(name))
            {
                Store.Delete(KubeResources.Nodes, null, name);
            }
        }

        Tick();
    }

    /// <summary>Creates an object directly (apiVersion and kind taken from it), e.g. to seed a cluster for a test.</summary>
    public JsonObject Seed(JsonObject obj)
    {
        var r = KubeResources.FindKind(obj.Str("apiVersion") ?? "", obj.Str("kind") ?? "")
            ?? throw new ArgumentException($"the fake does not serve {obj.Str("apiVersion")} {obj.Str("kind")}");
        var ns = r.Namespaced ? obj.Str("metadata", "namespace") ?? "default" : null;
        if (ns is not null && Store.Get(KubeResources.Namespaces, null, ns) is null)
        {
            Store.Create(KubeResources.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } });
        }

        return Store.Create(r, ns, obj, "fake-seed");
    }

    /// <summary>The annotation client-side <c>kubectl apply</c> keeps the applied manifest in.</summary>
    public const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    /// <summary>The field manager of client-side <c>kubectl apply</c>.</summary>
    public const string ClientSideApplyManager = "kubectl-client-side-apply";

    /// <summary>
    /// Creates an object as client-side <c>kubectl apply</c> leaves it (how the live platform was deployed): the manifest
    /// in the last-applied annotation, and every field (defaults included) owned by <c>kubectl-client-side-apply</c>
    /// with operation Update, as the real server records a create made with that field manager.
    /// </summary>
    public JsonObject SeedAsKubectlApply(JsonObject manifest)
    {
        var r = KubeResources.FindKind(manifest.Str("apiVersion") ?? "", manifest.Str("kind") ?? "")
            ?? throw new ArgumentException($"the fake does not serve {manifest.Str("apiVersion")} {manifest.Str("kind")}");
        var ns = r.Namespaced ? manifest.Str("metadata", "namespace") ?? "default" : null;
        if (ns is not null && Store.Get(KubeResources.Namespaces, null, ns) is null)
        {
            SeedAsKubectlApply(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = ns } });
        }

        var obj = manifest.Clone();
        obj.Obj("metadata").Obj("annotations")[LastAppliedAnnotation] = KubeJson.Serialize(manifest) + "\n";
        return Store.Create(r, ns, obj, ClientSideApplyManager);
    }

    /// <summary>Runs the controllers once now (they also run every 50 ms of real time).</summary>
    public void Tick()
    {
        try
        {
            _controllers.Tick();
        }
        catch (Exception e)
        {
            ControllerError = e;
        }
    }

    /// <summary>Cuts every open watch connection (the client sees a transport error), as a dying API server would.</summary>
    public void DropWatches() => Store.EndAllWatches();

    /// <summary>Ends every open watch with a 410 Expired ERROR event after compacting (see <see cref="KubeObjectStore.ExpireWatches"/>).</summary>
    public void ExpireWatches() => Store.ExpireWatches();

    /// <summary>
    /// Waits until at least <paramref name="count"/> watches of <paramref name="resource"/> (plural) are open, so a
    /// test can break a watch mid-stream without sleeping; fails after <paramref name="within"/> (default 20 s).
    /// </summary>
    public async Task UntilWatchingAsync(string resource, int count = 1, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        while (Store.OpenWatches(resource) < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up waiting for {count} open watch(es) of {resource}; open: {Store.OpenWatches(resource)}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>The API server stops answering: open watches are cut and new requests fail as the mode says.</summary>
    public void BeginOutage(OutageMode mode = OutageMode.Hang)
    {
        _outageOver = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _outage = new OutageState(mode);
        DropWatches();
    }

    /// <summary>The outage begins when the (<paramref name="mutations"/> + 1)th change arrives: that one already fails, as the server died before it.</summary>
    public void BeginOutageAfterMutations(int mutations, OutageMode mode = OutageMode.Reset)
    {
        _outageAfterMutations = mutations;
        _outageAfterMode = mode;
    }

    private int? _outageAfterMutations;
    private OutageMode _outageAfterMode;
    private int _mutationsSeen;

    public void EndOutage()
    {
        _outage = null;
        _outageOver.TrySetResult();
    }

    private async Task StartCoreAsync(CancellationToken ct)
    {
        foreach (var ns in SystemNamespaces)
        {
            Store.Create(KubeResources.Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } });
        }

        SetNodeCount(_options.NodeCount);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.UseWebSockets();
        _app.Run(HandleAsync);
        await _app.StartAsync(ct);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        Url = addresses.Addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        _ticker = Task.Run(async () =>
        {
            while (!_stopping.IsCancellationRequested)
            {
                Tick();
                try
                {
                    await Task.Delay(50, _stopping.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        EndOutage();
        DropWatches();
        if (_ticker is not null)
        {
            await _ticker;
        }

        if (_app is not null)
        {
            using var stopWithin = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stopWithin.Token);
            await _app.DisposeAsync();
        }

        _stopping.Dispose();
    }

    // ---- HTTP --------------------------------------------------------------------------------------------------------

    private async Task HandleAsync(HttpContext ctx)
    {
        var q = ctx.Request.Query;
        string? sent = null;
        if (ctx.Request.Method is "POST" or "PUT" or "PATCH" && !ctx.WebSockets.IsWebSocketRequest)
        {
            ctx.Request.EnableBuffering();
            sent = await ReadBody(ctx);
            ctx.Request.Body.Position = 0;
        }

        var recorded = new RecordedRequest(ctx.Request.Method, ctx.Request.Path.Value ?? "", ctx.Request.QueryString.Value ?? "",
            ctx.Request.ContentType, q["fieldManager"].FirstOrDefault(), q["dryRun"].FirstOrDefault() == "All")
        { Body = sent };
        lock (_requests)
        {
            _requests.Add(recorded);
        }
        if (_outageAfterMutations is { } after && IsMutation(recorded) && Interlocked.Increment(ref _mutationsSeen) > after)
        {
            _outageAfterMutations = null;
            BeginOutage(_outageAfterMode);
        }

        if (_outage is { } outage)
        {
            switch (outage.Mode)
            {
                case OutageMode.Reset:
                    ctx.Abort();
                    return;
                case OutageMode.Unavailable:
                    await WriteJson(ctx, 503, KubeJson.Status(503, "ServiceUnavailable", "the server is currently unable to handle the request"));
                    return;
                default:
                    try
                    {
                        await _outageOver.Task.WaitAsync(ctx.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    break;
            }
        }

        var auth = ctx.Request.Headers.Authorization.FirstOrDefault() ?? "";
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !_options.AcceptToken(auth["Bearer ".Length..]))
        {
            await WriteJson(ctx, 401, KubeJson.Status(401, "Unauthorized", "Unauthorized"));
            return;
        }

        try
        {
            await RouteAsync(ctx);
        }
        catch (KubeApiException e)
        {
            if (!ctx.Response.HasStarted)
            {
                await WriteJson(ctx, e.Code, e.ToStatus());
            }
        }
    }

    private async Task RouteAsync(HttpContext ctx)
    {
        var path = (ctx.Request.Path.Value ?? "/").TrimEnd('/');
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        switch (segments)
        {
            case ["version"]:
                await WriteJson(ctx, 200, new JsonObject { ["major"] = "1", ["minor"] = "32", ["gitVersion"] = "v1.32.0-fake", ["platform"] = "linux/amd64" });
                return;
            case ["api"]:
                await WriteJson(ctx, 200, KubeResources.CoreVersions(Url.Replace("http://", "", StringComparison.Ordinal)));
                return;
            case ["apis"]:
                await WriteJson(ctx, 200, KubeResources.GroupList());
                return;
            case ["apis", var group]:
                await WriteJson(ctx, 200, KubeResources.Group(group) ?? throw NoSuchResource());
                return;
            case ["api", "v1"]:
                await WriteJson(ctx, 200, KubeResources.ResourceList("", "v1")!);
                return;
            case ["apis", var group, var version]:
                await WriteJson(ctx, 200, KubeResources.ResourceList(group, version) ?? throw NoSuchResource());
                return;
            case ["api", "v1", .. var rest]:
                await ResourceAsync(ctx, "", "v1", rest);
                return;
            case ["apis", var group, var version, .. var rest]:
                await ResourceAsync(ctx, group, version, rest);
                return;
            default:
                throw NoSuchResource();
        }
    }

    private static KubeApiException NoSuchResource() =>
        new(404, "NotFound", "the server could not find the requested resource");

    private async Task ResourceAsync(HttpContext ctx, string group, string version, string[] rest)
    {
        string? ns = null;
        if (rest is ["namespaces", var n, var plural, ..] && plural is not ("status" or "finalize"))
        {
            ns = n;
            rest = rest[2..];
        }

        var r = KubeResources.Find(group, version, rest[0]) ?? throw NoSuchResource();
        var name = rest.Length > 1 ? rest[1] : null;
        var sub = rest.Length > 2 ? rest[2] : null;
        if (rest.Length > 3 || (ns is not null && !r.Namespaced))
        {
            throw NoSuchResource();
        }

        var method = ctx.Request.Method;
        var q = ctx.Request.Query;
        var watch = q["watch"].FirstOrDefault() is "true" or "1";
        var verb = method switch
        {
            "GET" when name is null => watch ? "watch" : "list",
            "GET" => "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => name is null ? "deletecollection" : "delete",
            _ => throw new KubeApiException(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource"),
        };
        if (sub == "exec")
        {
            verb = "create";
        }

        if (!r.IsReview && !Access.IsAllowed(verb, group, r.Plural, ns, sub))
        {
            var what = name is null ? r.QualifiedName : $"{r.QualifiedName} \"{name}\"";
            var resource = sub is null ? r.Plural : $"{r.Plural}/{sub}";
            var where = ns is null ? "at the cluster scope" : $"in the namespace \"{ns}\"";
            throw new KubeApiException(403, "Forbidden",
                $"{what} is forbidden: User \"{Access.User}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {where}",
                new JsonObject { ["name"] = name, ["group"] = group, ["kind"] = r.Plural });
        }

        if (r.IsReview)
        {
            await WriteJson(ctx, 201, Review(await ReadJsonObject(ctx)));
            return;
        }

        var manager = q["fieldManager"].FirstOrDefault();
        var dryRun = q["dryRun"].FirstOrDefault() == "All";
        var statusOnly = sub == "status";
        if (sub is not null && !(statusOnly && r.HasStatus) && !(r == KubeResources.Pods && sub is "log" or "exec"))
        {
            throw NoSuchResource();
        }

        var applyCreates = verb == "patch" && (ctx.Request.ContentType ?? "").StartsWith("application/apply-patch", StringComparison.Ordinal) && Store.Get(r, ns, name!) is null;
        if (ns is not null && sub is null && (verb == "create" || applyCreates) && Store.IsTerminating(ns))
        {
            // The NamespaceLifecycle admission: nothing new in a namespace being deleted.
            throw new KubeApiException(403, "Forbidden",
                $"{r.QualifiedName} {(name is null ? "" : $"\"{name}\" ")}is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                new JsonObject
                {
                    ["name"] = name,
                    ["kind"] = r.Plural,
                    ["causes"] = new JsonArray(new JsonObject { ["reason"] = "NamespaceTerminating", ["message"] = $"namespace {ns} is being terminated", ["field"] = "metadata.namespace" }),
                });
        }

        switch (verb)
        {
            case "get" when sub == "log":
                await PodLogAsync(ctx, ns!, name!);
                return;
            case "create" when sub == "exec":
                await ExecAsync(ctx, ns!, name!);
                return;
            case "get":
                await WriteJson(ctx, 200, Store.MustGet(r, ns, name!));
                return;
            case "list":
                await WriteJson(ctx, 200, List(r, ns, q["labelSelector"].FirstOrDefault(), q["fieldSelector"].FirstOrDefault()));
                return;
            case "watch":
                await WatchAsync(ctx, r, ns);
                return;
            case "create":
                var created = Store.Create(r, ns, await ReadJsonObject(ctx), manager ?? UserAgentManager(ctx), dryRun);
                await WriteJson(ctx, 201, created);
                return;
            case "update":
                await WriteJson(ctx, 200, Store.Replace(r, ns, name!, await ReadJsonObject(ctx), manager ?? UserAgentManager(ctx), dryRun, statusOnly));
                return;
            case "patch":
                var contentType = ctx.Request.ContentType ?? "";
                var body = await ReadBody(ctx);
                if (contentType.StartsWith("application/apply-patch", StringComparison.Ordinal))
                {
                    var (applied, wasCreated) = Store.Apply(r, ns, name!, body, manager, q["force"].FirstOrDefault() == "true", dryRun);
                    await WriteJson(ctx, wasCreated ? 201 : 200, applied);
                }
                else
                {
                    await WriteJson(ctx, 200, Store.Patch(r, ns, name!, contentType, body, manager ?? UserAgentManager(ctx), false, dryRun, statusOnly));
                }

                return;
            case "delete":
                var (gone, removed) = Store.DeleteGracefully(r, ns, name!, await GracePeriodAsync(ctx), dryRun);
                // A deletion still under way (a Terminating pod or namespace, pending finalizers) answers the object itself.
                await WriteJson(ctx, 200, r == KubeResources.Pods || !removed ? gone : new JsonObject
                {
                    ["kind"] = "Status",
                    ["apiVersion"] = "v1",
                    ["metadata"] = new JsonObject(),
                    ["status"] = "Success",
                    ["details"] = new JsonObject { ["name"] = name, ["group"] = group, ["kind"] = r.Plural, ["uid"] = gone.Str("metadata", "uid") },
                });
                return;
            case "deletecollection":
                var selector = Selector.Labels(q["labelSelector"].FirstOrDefault());
                var collectionGrace = await GracePeriodAsync(ctx);
                foreach (var o in Store.List(r, ns).Where(selector.Matches))
                {
                    Store.DeleteGracefully(r, o.Str("metadata", "namespace"), o.Str("metadata", "name")!, collectionGrace, dryRun);
                }

                await WriteJson(ctx, 200, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success" });
                return;
        }
    }

    /// <summary>The grace period of a DELETE: the <c>gracePeriodSeconds</c> parameter, else the DeleteOptions body's.</summary>
    private static async Task<long?> GracePeriodAsync(HttpContext ctx)
    {
        if (long.TryParse(ctx.Request.Query["gracePeriodSeconds"].FirstOrDefault(), CultureInfo.InvariantCulture, out var grace))
        {
            return grace;
        }

        var body = await ReadBody(ctx);
        try
        {
            return string.IsNullOrWhiteSpace(body) ? null : JsonNode.Parse(body).Long("gracePeriodSeconds");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new KubeApiException(400, "BadRequest", $"error decoding DeleteOptions: {e.Message}");
        }
    }

    private static string UserAgentManager(HttpContext ctx)
    {
        var agent = ctx.Request.Headers.UserAgent.FirstOrDefault() ?? "unknown";
        var slash = agent.IndexOf('/');
        return slash > 0 ? agent[..slash] : agent;
    }

    private JsonObject List(KubeResource r, string? ns, string? labelSelector, string? fieldSelector)
    {
        var labels = Selector.Labels(labelSelector);
        var fields = Selector.Fields(fieldSelector);
        var items = new JsonArray();
        long rv;
        lock (Store.Gate)
        {
            rv = Store.ResourceVersion;
            foreach (var o in Store.List(r, ns).Where(o => labels.Matches(o) && fields.Matches(o)))
            {
                o.Remove("apiVersion");
                o.Remove("kind");
                items.Add(o);
            }
        }

        return new JsonObject
        {
            ["kind"] = r.ListKind,
            ["apiVersion"] = r.GroupVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) },
            ["items"] = items,
        };
    }

    private async Task WatchAsync(HttpContext ctx, KubeResource r, string? ns)
    {
        var q = ctx.Request.Query;
        var labels = Selector.Labels(q["labelSelector"].FirstOrDefault());
        var fields = Selector.Fields(q["fieldSelector"].FirstOrDefault());
        long? from = long.TryParse(q["resourceVersion"].FirstOrDefault(), CultureInfo.InvariantCulture, out var rv) ? rv : null;
        var timeout = int.TryParse(q["timeoutSeconds"].FirstOrDefault(), CultureInfo.InvariantCulture, out var t) ? TimeSpan.FromSeconds(t) : TimeSpan.FromMinutes(30);
        bool Matches(JsonObject o) => labels.Matches(o) && fields.Matches(o);

        WatchSubscription sub;
        List<WatchRecord> replay;
        try
        {
            sub = Store.Subscribe(r, ns, from, out replay);
        }
        catch (KubeApiException e) when (e.Code == 410)
        {
            // The real server answers 200 and sends the 410 as an ERROR event on the stream.
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(KubeJson.Serialize(new JsonObject { ["type"] = "ERROR", ["object"] = e.ToStatus() }) + "\n");
            return;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
        deadline.CancelAfter(timeout);
        try
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.StartAsync(deadline.Token);
            await ctx.Response.Body.FlushAsync(deadline.Token);
            foreach (var e in replay)
            {
                await SendWatchEvent(ctx, e, Matches, deadline.Token);
            }

            await foreach (var e in sub.Events.Reader.ReadAllAsync(deadline.Token))
            {
                await SendWatchEvent(ctx, e, Matches, deadline.Token);
            }
        }
        catch (Exception e) when (e is WatchDroppedException || e.InnerException is WatchDroppedException)
        {
            ctx.Abort();
        }
        catch (Exception e) when ((e as WatchExpiredException ?? e.InnerException as WatchExpiredException) is { } expired)
        {
            var status = new KubeApiException(410, "Expired", $"too old resource version: {from ?? 0} ({expired.CompactedThrough})").ToStatus();
            await ctx.Response.WriteAsync(KubeJson.Serialize(new JsonObject { ["type"] = "ERROR", ["object"] = status }) + "\n", ctx.RequestAborted);
        }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            // timeoutSeconds reached: the real server ends the stream cleanly.
        }
        catch (OperationCanceledException)
        {
            // The client left or the fake is stopping.
            ctx.Abort();
        }
        catch (IOException)
        {
            ctx.Abort();
        }
        finally
        {
            Store.Unsubscribe(sub);
        }
    }

    private static async Task SendWatchEvent(HttpContext ctx, WatchRecord e, Func<JsonObject, bool> matches, CancellationToken ct)
    {
        var now = matches(e.Object);
        var before = e.Old is not null && matches(e.Old);
        var type = e.Type switch
        {
            "MODIFIED" when now && !before => "ADDED",
            "MODIFIED" when !now && before => "DELETED",
            "MODIFIED" when now => "MODIFIED",
            "DELETED" when now || before => "DELETED",
            "ADDED" when now => "ADDED",
            _ => null,
        };
        if (type is null)
        {
            return;
        }

        var line = KubeJson.Serialize(new JsonObject { ["type"] = type, ["object"] = e.Object.Clone() }) + "\n";
        await ctx.Response.WriteAsync(line, ct);
        await ctx.Response.Body.FlushAsync(ct);
    }

    private JsonObject Review(JsonObject review)
    {
        var attributes = review["spec"]?["resourceAttributes"];
        var allowed = attributes is null || Access.IsAllowed(
            attributes.Str("verb") ?? "", attributes.Str("group") ?? "", attributes.Str("resource") ?? "",
            attributes.Str("namespace") is { Length: > 0 } n ? n : null, attributes.Str("subresource") is { Length: > 0 } s ? s : null);
        var result = review.Clone();
        result["apiVersion"] = "authorization.k8s.io/v1";
        result["kind"] = "SelfSubjectAccessReview";
        result.Obj("metadata")["creationTimestamp"] = null;
        result["status"] = allowed
            ? new JsonObject { ["allowed"] = true, ["reason"] = $"RBAC: allowed by ClusterRoleBinding \"fake-admin\" of ClusterRole \"cluster-admin\" to User \"{Access.User}\"" }
            : new JsonObject { ["allowed"] = false };
        return result;
    }

    private async Task PodLogAsync(HttpContext ctx, string ns, string name)
    {
        var pod = Store.MustGet(KubeResources.Pods, ns, name);
        var q = ctx.Request.Query;
        var container = q["container"].FirstOrDefault() ?? pod["spec"]?["containers"]?[0].Str("name") ?? "";
        var uid = pod.Str("metadata", "uid")!;
        IReadOnlyList<string> lines;
        if (q["previous"].FirstOrDefault() == "true")
        {
            lines = _controllers.PreviousLogs(ns, uid, out _)
                ?? throw new KubeApiException(400, "BadRequest", $"previous terminated container \"{container}\" in pod \"{name}\" not found");
        }
        else
        {
            if (pod.Str("status", "phase") == "Pending")
            {
                throw new KubeApiException(400, "BadRequest", $"container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating");
            }

            lines = Simulation.Logs(ns, _controllers.WorkloadOf(uid));
        }

        if (int.TryParse(q["tailLines"].FirstOrDefault(), CultureInfo.InvariantCulture, out var tail) && tail < lines.Count)
        {
            lines = lines.Skip(lines.Count - tail).ToList();
        }

        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/plain";
        await ctx.Response.WriteAsync(string.Concat(lines.Select(l => l + "\n")));
    }

    private async Task ExecAsync(HttpContext ctx, string ns, string name)
    {
        var pod = Store.MustGet(KubeResources.Pods, ns, name);
        var containers = (pod["spec"]?["containers"] as JsonArray ?? []).Select(c => c.Str("name")!).ToList();
        var container = ctx.Request.Query["container"].FirstOrDefault() ?? containers.FirstOrDefault() ?? "";
        if (!containers.Contains(container))
        {
            throw new KubeApiException(400, "BadRequest", $"container {container} is not valid for pod {name}");
        }

        if (pod.Str("status", "phase") != "Running")
        {
            throw new KubeApiException(400, "BadRequest", $"unable to upgrade connection: container not found (\"{container}\")");
        }

        if (!ctx.WebSockets.IsWebSocketRequest)
        {
            throw new KubeApiException(400, "BadRequest", "Upgrade request required");
        }

        var command = ctx.Request.Query["command"].Where(c => c is not null).Select(c => c!).ToList();
        await Exec.RunAsync(ctx, ns, name, container, command);
    }

    private static async Task<string> ReadBody(HttpContext ctx)
    {
        // Left open: the request log reads a buffered body first, the handler reads it again.
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        return await reader.ReadToEndAsync(ctx.RequestAborted);
    }

    private static async Task<JsonObject> ReadJsonObject(HttpContext ctx)
    {
        var body = await ReadBody(ctx);
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw new KubeApiException(400, "BadRequest", "the request body is not an object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new KubeApiException(400, "BadRequest", $"error decoding request body: {e.Message}");
        }
    }

    private static async Task WriteJson(HttpContext ctx, int code, JsonObject body)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(KubeJson.Serialize(body), ctx.RequestAborted);
    }
}
