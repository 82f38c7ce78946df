using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>An API error answered as a metav1.Status with its HTTP code.</summary>
public sealed class KubeApiException(int code, string reason, string message, JsonObject? details = null)
    : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;
    internal JsonObject ToStatus() => KubeJson.Status(Code, Reason, Message, details?.Clone());
}

internal sealed record WatchRecord(long ResourceVersion, KubeResource Resource, string Type, JsonObject Object, JsonObject? Old);

/// <summary>Ends a watch stream by resetting its connection.</summary>
internal sealed class WatchDroppedException : Exception;

/// <summary>Ends a watch stream with an ERROR event carrying a 410 Expired Status, then closes it cleanly.</summary>
internal sealed class WatchExpiredException(long compactedThrough) : Exception
{
    public long CompactedThrough { get; } = compactedThrough;
}

internal sealed class WatchSubscription(KubeResource resource, string? ns)
{
    public KubeResource Resource { get; } = resource;
    public string? Namespace { get; } = ns;
    public Channel<WatchRecord> Events { get; } = Channel.CreateUnbounded<WatchRecord>();
}

/// <summary>
/// The fake's etcd plus the API server's write semantics: resourceVersion, generation, uid, managedFields,
/// optimistic concurrency, server-side apply and patches, and a watch log. All access holds <see cref="Gate"/>.
/// </summary>
public sealed class KubeObjectStore
{
    private readonly Dictionary<KubeResource, SortedDictionary<string, JsonObject>> _objects = [];
    private readonly List<WatchRecord> _log = [];
    private readonly List<WatchSubscription> _subscriptions = [];
    private readonly FakeClock _clock;
    private long _resourceVersion = 1000;
    private long _compactedThrough;
    private int _names;

    internal KubeObjectStore(FakeClock clock) => _clock = clock;

    internal Lock Gate { get; } = new();

    /// <summary>The newest resourceVersion handed out (lists answer with it).</summary>
    public long ResourceVersion
    {
        get
        {
            lock (Gate)
            {
                return _resourceVersion;
            }
        }
    }

    private static string Key(string? ns, string name) => $"{ns}/{name}";

    private SortedDictionary<string, JsonObject> Table(KubeResource r)
    {
        if (!_objects.TryGetValue(r, out var t))
        {
            t = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
            _objects[r] = t;
        }

        return t;
    }

    public JsonObject? Get(KubeResource r, string? ns, string name)
    {
        lock (Gate)
        {
            return Table(r).TryGetValue(Key(ns, name), out var o) ? o.Clone() : null;
        }
    }

    public IReadOnlyList<JsonObject> List(KubeResource r, string? ns = null) => List(r, ns, null);

    /// <summary>Copies of the objects that pass the filter; the filter sees the stored object and must not change it.</summary>
    internal IReadOnlyList<JsonObject> List(KubeResource r, string? ns, Func<JsonObject, bool>? filter)
    {
        lock (Gate)
        {
            return Table(r).Values.Where(o => (ns is null || o.Str("metadata", "namespace") == ns) && (filter is null || filter(o)))
                .Select(o => o.Clone()).ToList();
        }
    }

    internal int Count(KubeResource r)
    {
        lock (Gate)
        {
            return Table(r).Count;
        }
    }

    internal HashSet<string> Uids(KubeResource r)
    {
        lock (Gate)
        {
            return Table(r).Values.Select(o => o.Str("metadata", "uid")!).ToHashSet();
        }
    }

    internal JsonObject MustGet(KubeResource r, string? ns, string name) =>
        Get(r, ns, name) ?? throw NotFound(r, name);

    internal static KubeApiException NotFound(KubeResource r, string name) =>
        new(404, "NotFound", $"{r.QualifiedName} \"{name}\" not found",
            new JsonObject { ["name"] = name, ["group"] = r.Group, ["kind"] = r.Plural });

    private static KubeApiException Conflict(KubeResource r, string name) =>
        new(409, "Conflict",
            $"Operation cannot be fulfilled on {r.QualifiedName} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            new JsonObject { ["name"] = name, ["group"] = r.Group, ["kind"] = r.Plural });

    private static KubeApiException Invalid(KubeResource r, string name, string field, string problem) =>
        new(422, "Invalid", $"{r.Kind}{(r.Group.Length > 0 ? "." + r.Group : "")} \"{name}\" is invalid: {field}: {problem}",
            new JsonObject
            {
                ["name"] = name,
                ["group"] = r.Group,
                ["kind"] = r.Kind,
                ["causes"] = new JsonArray(new JsonObject { ["reason"] = "FieldValueInvalid", ["message"] = problem, ["field"] = field }),
            });

    // ---- create -------------------------------------------------------------------------------------------------

    public JsonObject Create(KubeResource r, string? ns, JsonObject body, string? manager = null, bool dryRun = false) =>
        Create(r, ns, body, manager, dryRun, null);

    private JsonObject Create(KubeResource r, string? ns, JsonObject body, string? manager, bool dryRun, List<ManagedFields.Entry>? applyEntries)
    {
        lock (Gate)
        {
            var obj = body.Clone();
            CheckTypeAndNamespace(r, ns, obj);
            var meta = obj.Obj("metadata");
            var name = meta.Str("name");
            if (string.IsNullOrEmpty(name))
            {
                var prefix = meta.Str("generateName");
                if (string.IsNullOrEmpty(prefix))
                {
                    throw Invalid(r, "", "metadata.name", "Required value: name or generateName is required");
                }

                name = prefix + RandomSuffix();
                meta["name"] = name;
            }

            if (r.Namespaced)
            {
                meta["namespace"] = ns;
                if (!Table(KubeResources.Namespaces).ContainsKey(Key(null, ns!)))
                {
                    throw new KubeApiException(404, "NotFound", $"namespaces \"{ns}\" not found",
                        new JsonObject { ["name"] = ns, ["kind"] = "namespaces" });
                }
            }

            if (Table(r).ContainsKey(Key(ns, name)))
            {
                throw new KubeApiException(409, "AlreadyExists", $"{r.QualifiedName} \"{name}\" already exists",
                    new JsonObject { ["name"] = name, ["group"] = r.Group, ["kind"] = r.Plural });
            }

            if (r.HasStatus && manager is not null && r != KubeResources.Pods)
            {
                obj.Remove("status");
            }

            meta.Remove("resourceVersion");
            meta.Remove("managedFields");
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = KubeJson.Time(_clock.Now);
            ApplyDefaults(r, obj);
            Validate(r, obj, null);
            if (HasGeneration(r))
            {
                meta["generation"] = 1;
            }

            if (applyEntries is not null)
            {
                PruneOwnership(obj, applyEntries);
                ManagedFields.Write(obj, applyEntries);
            }
            else if (manager is not null)
            {
                ManagedFields.Write(obj, [new(manager, "Update", r.GroupVersion, KubeJson.Time(_clock.Now), null, ManagedFields.FieldsOf(obj, r.HasStatus))]);
            }

            return dryRun ? obj : Commit(r, "ADDED", obj, null);
        }
    }

    // ---- update (PUT) -------------------------------------------------------------------------------------------

    public JsonObject Replace(KubeResource r, string? ns, string name, JsonObject body, string? manager, bool dryRun = false, bool statusOnly = false)
    {
        lock (Gate)
        {
            var live = MustGetLive(r, ns, name);
            CheckTypeAndNamespace(r, ns, body);
            if (body.Str("metadata", "name") is { } bodyName && bodyName != name)
            {
                throw new KubeApiException(400, "BadRequest", $"the name of the object ({bodyName}) does not match the name on the URL ({name})");
            }

            CheckPrecondition(r, name, live, body.Str("metadata", "resourceVersion"));
            JsonObject next;
            if (statusOnly)
            {
                next = live.Clone();
                next["status"] = body["status"]?.DeepClone();
            }
            else
            {
                next = body.Clone();
                if (r.HasStatus)
                {
                    next["status"] = live["status"]?.DeepClone();
                }
            }

            return CommitUpdate(r, live, next, manager, statusOnly ? "status" : null, dryRun);
        }
    }

    // ---- patches ------------------------------------------------------------------------------------------------

    public JsonObject Patch(KubeResource r, string? ns, string name, string contentType, string body, string? manager, bool force, bool dryRun, bool statusOnly = false)
    {
        lock (Gate)
        {
            if (contentType.StartsWith("application/apply-patch", StringComparison.Ordinal))
            {
                return Apply(r, ns, name, body, manager, force, dryRun).Object;
            }

            if (force)
            {
                throw new KubeApiException(400, "BadRequest", "force may not be set for non-apply patch");
            }

            var live = MustGetLive(r, ns, name);
            JsonNode? patch;
            try
            {
                patch = JsonNode.Parse(body);
            }
            catch (System.Text.Json.JsonException e)
            {
                throw new KubeApiException(400, "BadRequest", $"error decoding patch: {e.Message}");
            }

            JsonNode? patched = contentType switch
            {
                _ when contentType.StartsWith("application/merge-patch+json", StringComparison.Ordinal) => MergePatches.JsonMerge(live, patch),
                _ when contentType.StartsWith("application/strategic-merge-patch+json", StringComparison.Ordinal) => MergePatches.Strategic(live, patch),
                _ when contentType.StartsWith("application/json-patch+json", StringComparison.Ordinal) => JsonPatch.Apply(live, patch),
                _ => throw new KubeApiException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"),
            };
            if (patched is not JsonObject next)
            {
                throw new KubeApiException(400, "BadRequest", "patch did not produce an object");
            }

            // The precondition is the resourceVersion the patched object carries: a merge patch sets it under metadata, a
            // JSON patch replaces /metadata/resourceVersion (kubectl's managedFields migration does); the real server refuses
            // either with 409 when it is stale.
            CheckPrecondition(r, name, live, next.Str("metadata", "resourceVersion"));
            if (statusOnly)
            {
                var onlyStatus = live.Clone();
                onlyStatus["status"] = next["status"]?.DeepClone();
                next = onlyStatus;
            }
            else if (r.HasStatus)
            {
                next["status"] = live["status"]?.DeepClone();
            }

            return CommitUpdate(r, live, next, manager ?? "unknown", statusOnly ? "status" : null, dryRun);
        }
    }

    /// <summary>Server-side apply: merge the configuration, record ownership, refuse to take fields another manager owns.</summary>
    public (JsonObject Object, bool Created) Apply(KubeResource r, string? ns, string name, string body, string? manager, bool force, bool dryRun)
    {
        if (string.IsNullOrEmpty(manager))
        {
            throw new KubeApiException(400, "BadRequest", "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests");
        }

        JsonObject config;
        try
        {
            config = KubeJson.ParseYamlOrJson(body) as JsonObject
                ?? throw new KubeApiException(400, "BadRequest", "the apply configuration is not an object");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or YamlDotNet.Core.YamlException)
        {
            throw new KubeApiException(400, "BadRequest", $"error decoding YAML: {e.Message}");
        }

        lock (Gate)
        {
            if (string.IsNullOrEmpty(config.Str("apiVersion")) || string.IsNullOrEmpty(config.Str("kind")))
            {
                throw new KubeApiException(400, "BadRequest", "apiVersion and kind must be set in an apply configuration");
            }

            CheckTypeAndNamespace(r, ns, config);
            if (config.Str("metadata", "name") is { } configName && configName != name)
            {
                throw new KubeApiException(400, "BadRequest", $"the name of the object ({configName}) does not match the name on the URL ({name})");
            }

            var live = Table(r).TryGetValue(Key(ns, name), out var found) ? found.Clone() : null;
            if (live is not null)
            {
                CheckPrecondition(r, name, live, config.Str("metadata", "resourceVersion"));
            }

            var configMeta = config.Obj("metadata");
            foreach (var k in new[] { "resourceVersion", "uid", "managedFields", "creationTimestamp", "generation" })
            {
                configMeta.Remove(k);
            }

            configMeta["name"] = name;
            if (r.Namespaced)
            {
                configMeta["namespace"] = ns;
            }

            var applied = ManagedFields.FieldsOf(config, r.HasStatus);
            var entries = live is null ? [] : ManagedFields.Read(live);
            var mine = entries.FirstOrDefault(e => e.Manager == manager && e.Operation == "Apply" && e.Subresource is null);
            var conflicts = new List<(string Manager, string ApiVersion, string Path)>();
            foreach (var path in applied.Where(p => !p.EndsWith('.')))
            {
                foreach (var other in entries.Where(e => e.Manager != manager && e.Fields.Contains(path)))
                {
                    if (!KubeJson.Same(ManagedFields.ValueAt(live, path).Value, ManagedFields.ValueAt(config, path).Value))
                    {
                        conflicts.Add((other.Manager, other.ApiVersion, path));
                    }
                }
            }

            if (conflicts.Count > 0 && !force)
            {
                throw ApplyConflict(conflicts);
            }

            foreach (var c in conflicts)
            {
                foreach (var other in entries.Where(e => e.Manager == c.Manager))
                {
                    other.Fields.Remove(c.Path);
                }
            }

            var baseObject = live ?? new JsonObject
            {
                ["apiVersion"] = r.GroupVersion,
                ["kind"] = r.Kind,
                ["metadata"] = new JsonObject { ["name"] = name },
            };
            var applyBody = config.Clone();
            if (r.HasStatus)
            {
                applyBody.Remove("status");
            }

            var merged = (JsonObject)MergePatches.Strategic(baseObject, applyBody)!;
            var dropped = (mine?.Fields ?? []).Except(applied)
                .Where(p => !entries.Any(e => e != mine && (e.Fields.Contains(p) || (p.EndsWith('.') && e.Fields.Any(f => f.StartsWith(p[..^1], StringComparison.Ordinal))))))
                .OrderByDescending(p => p.Count(c => c == '\n'));
            foreach (var path in dropped)
            {
                ManagedFields.Remove(merged, path);
            }

            if (mine is not null)
            {
                entries.Remove(mine);
            }

            entries.Insert(0, new(manager, "Apply", r.GroupVersion, KubeJson.Time(_clock.Now), null, applied));
            if (live is null)
            {
                return (Create(r, ns, merged, null, dryRun, entries), true);
            }

            ManagedFields.Write(merged, entries);
            return (CommitUpdate(r, live, merged, null, null, dryRun), false);
        }
    }

    private static KubeApiException ApplyConflict(List<(string Manager, string ApiVersion, string Path)> conflicts)
    {
        var causes = new JsonArray();
        foreach (var c in conflicts)
        {
            causes.Add(new JsonObject
            {
                ["reason"] = "FieldManagerConflict",
                ["message"] = $"conflict with \"{c.Manager}\" using {c.ApiVersion}",
                ["field"] = ReadablePath(c.Path),
            });
        }

        var lines = string.Join("\n", conflicts.Select(c => $"- conflict with \"{c.Manager}\" using {c.ApiVersion}: {ReadablePath(c.Path)}"));
        var message = conflicts.Count == 1
            ? $"Apply failed with 1 conflict: conflict with \"{conflicts[0].Manager}\" using {conflicts[0].ApiVersion}: {ReadablePath(conflicts[0].Path)}"
            : $"Apply failed with {conflicts.Count} conflicts: \n{lines}";
        return new KubeApiException(409, "Conflict", message, new JsonObject { ["causes"] = causes });
    }

    internal static string ReadablePath(string path) =>
        string.Concat(path.Split('\n').Where(e => e != ".").Select(e =>
            e.StartsWith("f:", StringComparison.Ordinal) ? "." + e[2..]
            : e.StartsWith("k:", StringComparison.Ordinal) ? "[" + string.Join(",", JsonNode.Parse(e[2..])!.AsObject().Select(kv => $"{kv.Key}={kv.Value!.ToJsonString()}")) + "]"
            : e));

    // ---- delete -------------------------------------------------------------------------------------------------

    public JsonObject Delete(KubeResource r, string? ns, string name, bool dryRun = false)
    {
        lock (Gate)
        {
            var live = MustGetLive(r, ns, name);
            if (dryRun)
            {
                return live;
            }

            Table(r).Remove(Key(ns, name));
            var gone = live.Clone();
            gone.Obj("metadata")["resourceVersion"] = (++_resourceVersion).ToString(CultureInfo.InvariantCulture);
            Publish(new WatchRecord(_resourceVersion, r, "DELETED", gone, live));
            if (r == KubeResources.Namespaces)
            {
                foreach (var (res, table) in _objects.Where(t => t.Key.Namespaced))
                {
                    foreach (var key in table.Keys.Where(k => k.StartsWith(name + "/", StringComparison.Ordinal)).ToList())
                    {
                        var child = table[key];
                        Delete(res, name, child.Str("metadata", "name")!);
                    }
                }
            }

            return gone.Clone();
        }
    }

    // ---- graceful deletion (DELETE requests; the simulated controllers finish it) ---------------------------------

    /// <summary>
    /// DELETE as the API server does it. A pod on a node gets <c>deletionTimestamp</c> (now + its grace period: the
    /// request's, else <c>spec.terminationGracePeriodSeconds</c>, else 30) and <c>deletionGracePeriodSeconds</c> and
    /// stays, Terminating, until the simulated kubelet has stopped it (grace 0, an unscheduled or a finished pod: gone
    /// at once). A namespace turns Terminating
    /// (<c>deletionTimestamp</c>, <c>spec.finalizers: [kubernetes]</c>, <c>status.phase: Terminating</c>) until the
    /// namespace controller has removed its contents; deleting it again is a 409. An object with
    /// <c>metadata.finalizers</c> stays until they are removed. Anything else goes at once (<see cref="Delete"/>).
    /// </summary>
    /// <returns>The object as the server answers, and whether this call removed it.</returns>
    public (JsonObject Object, bool Gone) DeleteGracefully(KubeResource r, string? ns, string name, long? gracePeriodSeconds = null, bool dryRun = false)
    {
        lock (Gate)
        {
            var live = MustGetLive(r, ns, name);
            var terminating = live["metadata"]?["deletionTimestamp"] is not null;
            var finalizers = live["metadata"]?["finalizers"] is JsonArray { Count: > 0 };
            if (r == KubeResources.Namespaces && terminating)
            {
                throw new KubeApiException(409, "Conflict",
                    $"Operation cannot be fulfilled on namespaces \"{name}\": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.",
                    new JsonObject { ["name"] = name, ["kind"] = "namespaces" });
            }

            // A pod no node runs (never scheduled, or finished) has nothing to stop: the real server deletes it at once.
            var running = live.Str("spec", "nodeName") is not null && live.Str("status", "phase") is not ("Succeeded" or "Failed");
            var grace = r == KubeResources.Pods && running ? Math.Max(0, gracePeriodSeconds ?? live.Long("spec", "terminationGracePeriodSeconds") ?? 30) : 0;
            if (r != KubeResources.Namespaces && !finalizers && grace == 0)
            {
                return (Delete(r, ns, name, dryRun), true);
            }

            if (terminating)
            {
                // Already on its way out: a second DELETE changes nothing (a grace of 0 above forces it).
                return (live, false);
            }

            var next = live.Clone();
            next.Obj("metadata")["deletionTimestamp"] = KubeJson.Time(_clock.Now + TimeSpan.FromSeconds(grace));
            next.Obj("metadata")["deletionGracePeriodSeconds"] = grace;
            if (r == KubeResources.Namespaces)
            {
                next.Obj("spec")["finalizers"] = new JsonArray("kubernetes");
                next.Obj("status")["phase"] = "Terminating";
            }

            return (dryRun ? next : CommitUpdate(r, live, next, null, null, dryRun: false), false);
        }
    }

    /// <summary>Whether the namespace exists and is being deleted (new content is then refused).</summary>
    internal bool IsTerminating(string ns)
    {
        lock (Gate)
        {
            return Table(KubeResources.Namespaces).TryGetValue(Key(null, ns), out var o) && o["metadata"]?["deletionTimestamp"] is not null;
        }
    }

    /// <summary>Every object being deleted (deletionTimestamp set), for the controllers that finish deletions.</summary>
    internal IReadOnlyList<(KubeResource Resource, JsonObject Object)> Terminating()
    {
        lock (Gate)
        {
            return [.. _objects.SelectMany(t => t.Value.Values.Where(o => o["metadata"]?["deletionTimestamp"] is not null).Select(o => (t.Key, o.Clone())))];
        }
    }

    /// <summary>Every namespaced object in <paramref name="ns"/>, for the namespace controller.</summary>
    internal IReadOnlyList<(KubeResource Resource, JsonObject Object)> Contents(string ns)
    {
        lock (Gate)
        {
            return [.. _objects.Where(t => t.Key.Namespaced).SelectMany(t => t.Value.Where(kv => kv.Key.StartsWith(ns + "/", StringComparison.Ordinal)).Select(kv => (t.Key, kv.Value.Clone())))];
        }
    }

    // ---- writes by the simulated controllers (no field manager, status included) --------------------------------

    internal JsonObject SystemWrite(KubeResource r, JsonObject next)
    {
        lock (Gate)
        {
            var ns = next.Str("metadata", "namespace");
            var name = next.Str("metadata", "name")!;
            var live = MustGetLive(r, ns, name);
            return CommitUpdate(r, live, next, null, null, dryRun: false);
        }
    }

    // ---- watch --------------------------------------------------------------------------------------------------

    internal WatchSubscription Subscribe(KubeResource r, string? ns, long? fromResourceVersion, out List<WatchRecord> replay)
    {
        lock (Gate)
        {
            if (fromResourceVersion is > 0 && fromResourceVersion < _compactedThrough)
            {
                throw new KubeApiException(410, "Expired", $"too old resource version: {fromResourceVersion} ({_compactedThrough})");
            }

            if (fromResourceVersion is > 0)
            {
                replay = _log.Where(e => e.ResourceVersion > fromResourceVersion && e.Resource == r
                    && (ns is null || e.Object.Str("metadata", "namespace") == ns)).ToList();
            }
            else
            {
                replay = Table(r).Values.Where(o => ns is null || o.Str("metadata", "namespace") == ns)
                    .Select(o => new WatchRecord(long.Parse(o.Str("metadata", "resourceVersion")!, CultureInfo.InvariantCulture), r, "ADDED", o.Clone(), null))
                    .ToList();
            }

            var sub = new WatchSubscription(r, ns);
            _subscriptions.Add(sub);
            return sub;
        }
    }

    internal void Unsubscribe(WatchSubscription sub)
    {
        lock (Gate)
        {
            _subscriptions.Remove(sub);
        }

        sub.Events.Writer.TryComplete();
    }

    /// <summary>Forget the watch history: a watch from an older resourceVersion then gets 410 Gone, as after etcd compaction.</summary>
    public void Compact()
    {
        lock (Gate)
        {
            _log.Clear();
            _compactedThrough = _resourceVersion + 1;
        }
    }

    /// <summary>
    /// Compacts, then ends every open watch with an ERROR event carrying a 410 Expired Status, as the real server does
    /// when a watcher fell behind the history it keeps: the client must list (or get) again and watch from there.
    /// </summary>
    public void ExpireWatches()
    {
        long through;
        lock (Gate)
        {
            _log.Clear();
            through = _compactedThrough = _resourceVersion + 1;
        }

        EndAllWatches(new WatchExpiredException(through));
    }

    /// <summary>How many watches of <paramref name="resource"/> (plural, e.g. "deployments") are open now.</summary>
    public int OpenWatches(string resource)
    {
        lock (Gate)
        {
            return _subscriptions.Count(s => s.Resource.Plural == resource);
        }
    }

    internal void EndAllWatches(Exception? reason = null)
    {
        List<WatchSubscription> subs;
        lock (Gate)
        {
            subs = [.. _subscriptions];
            _subscriptions.Clear();
        }

        foreach (var s in subs)
        {
            s.Events.Writer.TryComplete(reason ?? new WatchDroppedException());
        }
    }

    // ---- internals ----------------------------------------------------------------------------------------------

    private JsonObject MustGetLive(KubeResource r, string? ns, string name) =>
        Table(r).TryGetValue(Key(ns, name), out var o) ? o.Clone() : throw NotFound(r, name);

    private static void CheckPrecondition(KubeResource r, string name, JsonObject live, string? resourceVersion)
    {
        if (!string.IsNullOrEmpty(resourceVersion) && resourceVersion != live.Str("metadata", "resourceVersion"))
        {
            throw Conflict(r, name);
        }
    }

    private static void CheckTypeAndNamespace(KubeResource r, string? ns, JsonObject obj)
    {
        if (obj.Str("apiVersion") is { } apiVersion && apiVersion != r.GroupVersion)
        {
            throw new KubeApiException(400, "BadRequest", $"the API version in the data ({apiVersion}) does not match the expected API version ({r.GroupVersion})");
        }

        if (obj.Str("kind") is { } kind && kind != r.Kind)
        {
            throw new KubeApiException(400, "BadRequest", $"the kind in the data ({kind}) does not match the expected kind ({r.Kind})");
        }

        if (r.Namespaced && obj.Str("metadata", "namespace") is { Length: > 0 } bodyNs && bodyNs != ns)
        {
            throw new KubeApiException(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
        }

        obj["apiVersion"] = r.GroupVersion;
        obj["kind"] = r.Kind;
    }

    private JsonObject CommitUpdate(KubeResource r, JsonObject live, JsonObject next, string? manager, string? subresource, bool dryRun)
    {
        var meta = next.Obj("metadata");
        var liveMeta = live.Obj("metadata");
        foreach (var k in new[] { "name", "namespace", "uid", "creationTimestamp", "generation" })
        {
            meta[k] = liveMeta[k]?.DeepClone();
            if (meta[k] is null)
            {
                meta.Remove(k);
            }
        }

        meta["resourceVersion"] = liveMeta["resourceVersion"]?.DeepClone();
        // Set by DELETE alone: an update can neither clear nor move it.
        foreach (var k in new[] { "deletionTimestamp", "deletionGracePeriodSeconds" })
        {
            if (liveMeta[k] is not null)
            {
                meta[k] = liveMeta[k]!.DeepClone();
            }
        }

        if (manager is not null)
        {
            // A request that rewrites metadata.managedFields (a JSON patch, as kubectl apply --server-side sends to move
            // client-side ownership) sets them; absent or empty, the server keeps what it had.
            var requested = next["metadata"]?["managedFields"] as JsonArray;
            var entries = requested is { Count: > 0 } && !KubeJson.Same(requested, live["metadata"]?["managedFields"]) ? ManagedFields.Read(next) : ManagedFields.Read(live);
            var before = ManagedFields.FieldsOf(live, r.HasStatus && subresource is null);
            var after = ManagedFields.FieldsOf(next, r.HasStatus && subresource is null);
            var changed = after.Where(p => !before.Contains(p) || !KubeJson.Same(ManagedFields.ValueAt(live, p).Value, ManagedFields.ValueAt(next, p).Value)).ToHashSet();
            if (changed.Count > 0)
            {
                foreach (var e in entries)
                {
                    e.Fields.ExceptWith(changed);
                }

                var mine = entries.FirstOrDefault(e => e.Manager == manager && e.Operation == "Update" && e.Subresource == subresource);
                if (mine is null)
                {
                    entries.Add(new(manager, "Update", r.GroupVersion, KubeJson.Time(_clock.Now), subresource, changed));
                }
                else
                {
                    entries[entries.IndexOf(mine)] = mine with { Time = KubeJson.Time(_clock.Now), Fields = [.. mine.Fields, .. changed] };
                }
            }

            PruneOwnership(next, entries);
            ManagedFields.Write(next, entries);
        }
        else if (next["metadata"]?["managedFields"] is not null)
        {
            var entries = ManagedFields.Read(next);
            PruneOwnership(next, entries);
            ManagedFields.Write(next, entries);
        }

        ApplyDefaults(r, next);
        Validate(r, next, live);
        if (HasGeneration(r) && !KubeJson.Same(WithoutMetaAndStatus(live), WithoutMetaAndStatus(next)))
        {
            meta["generation"] = (live.Long("metadata", "generation") ?? 0) + 1;
        }

        if (KubeJson.Same(WithoutManagedFieldTimes(live), WithoutManagedFieldTimes(next)))
        {
            return live;
        }

        return dryRun ? next : Commit(r, "MODIFIED", next, live);
    }

    private static void PruneOwnership(JsonObject obj, List<ManagedFields.Entry> entries)
    {
        foreach (var e in entries)
        {
            e.Fields.RemoveWhere(p => !ManagedFields.ValueAt(obj, p).Found);
        }
    }

    private JsonObject Commit(KubeResource r, string type, JsonObject obj, JsonObject? old)
    {
        obj.Obj("metadata")["resourceVersion"] = (++_resourceVersion).ToString(CultureInfo.InvariantCulture);
        var ns = r.Namespaced ? obj.Str("metadata", "namespace") : null;
        Table(r)[Key(ns, obj.Str("metadata", "name")!)] = obj.Clone();
        Publish(new WatchRecord(_resourceVersion, r, type, obj.Clone(), old));
        return obj;
    }

    private void Publish(WatchRecord record)
    {
        _log.Add(record);
        var ns = record.Object.Str("metadata", "namespace");
        foreach (var s in _subscriptions)
        {
            if (s.Resource == record.Resource && (s.Namespace is null || s.Namespace == ns))
            {
                s.Events.Writer.TryWrite(record);
            }
        }
    }

    private static JsonObject WithoutMetaAndStatus(JsonObject o)
    {
        var c = o.Clone();
        c.Remove("metadata");
        c.Remove("status");
        return c;
    }

    private static JsonObject WithoutManagedFieldTimes(JsonObject o)
    {
        var c = o.Clone();
        if (c["metadata"]?["managedFields"] is JsonArray mf)
        {
            foreach (var e in mf.OfType<JsonObject>())
            {
                e.Remove("time");
            }
        }

        return c;
    }

    private static bool HasGeneration(KubeResource r) =>
        r.Plural is not ("configmaps" or "secrets" or "events" or "leases" or "serviceaccounts" or "roles"
            or "rolebindings" or "clusterroles" or "clusterrolebindings" or "namespaces" or "nodes" or "pods"
            or "storageclasses" or "csidrivers" or "volumesnapshotclasses");

    internal string RandomSuffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var n = Interlocked.Increment(ref _names) * 7919 + Environment.TickCount;
        var chars = new char[5];
        for (var i = 0; i < 5; i++)
        {
            chars[i] = alphabet[(int)((uint)(n >> (i * 5)) % alphabet.Length)];
        }

        return new string(chars) is var s && Table(KubeResources.Pods).Keys.Any(k => k.EndsWith(s, StringComparison.Ordinal))
            ? RandomSuffix()
            : s;
    }

    // Field by field, as the API server's SetDefaults_* functions do: a field a server-side apply removed (its manager
    // stopped applying it) comes back as its default, so the object, and its generation, stay as they were.
    private static void ApplyDefaults(KubeResource r, JsonObject obj)
    {
        var spec = obj["spec"] as JsonObject;
        switch (r.Plural)
        {
            case "deployments" when spec is not null:
                spec["replicas"] ??= 1;
                spec["progressDeadlineSeconds"] ??= 600;
                spec["revisionHistoryLimit"] ??= 10;
                var strategy = spec.Obj("strategy");
                strategy["type"] ??= "RollingUpdate";
                if (strategy.Str("type") == "RollingUpdate")
                {
                    var rolling = strategy.Obj("rollingUpdate");
                    rolling["maxSurge"] ??= "25%";
                    rolling["maxUnavailable"] ??= "25%";
                }

                break;
            case "replicasets" when spec is not null:
                spec["replicas"] ??= 1;
                break;
            case "statefulsets" when spec is not null:
                spec["replicas"] ??= 1;
                spec["podManagementPolicy"] ??= "OrderedReady";
                spec["revisionHistoryLimit"] ??= 10;
                var statefulUpdate = spec.Obj("updateStrategy");
                statefulUpdate["type"] ??= "RollingUpdate";
                if (statefulUpdate.Str("type") == "RollingUpdate")
                    statefulUpdate.Obj("rollingUpdate")["partition"] ??= 0;
                break;
            case "daemonsets" when spec is not null:
                spec["revisionHistoryLimit"] ??= 10;
                var daemonUpdate = spec.Obj("updateStrategy");
                daemonUpdate["type"] ??= "RollingUpdate";
                if (daemonUpdate.Str("type") == "RollingUpdate")
                {
                    var rolling = daemonUpdate.Obj("rollingUpdate");
                    rolling["maxUnavailable"] ??= 1;
                    rolling["maxSurge"] ??= 0;
                }

                break;
            case "namespaces":
                obj.Obj("status")["phase"] ??= "Active";
                break;
            case "pods":
                obj.Obj("status")["phase"] ??= "Pending";
                break;
            case "services" when spec is not null:
                spec["type"] ??= "ClusterIP";
                break;
        }
    }

    /// <summary>
    /// Refuses what the real API server refuses, with every problem of the object in one 422 Invalid Status (field,
    /// reason, message per cause): workloads without a selector, a template that does not match it, containers
    /// without an image, and changes of fields that are immutable once the object exists.
    /// </summary>
    private static void Validate(KubeResource r, JsonObject obj, JsonObject? live)
    {
        var errors = new List<FieldError>();
        switch (r.Plural)
        {
            case "deployments" or "replicasets" or "daemonsets" or "statefulsets":
                ValidateWorkload(r, obj, live, errors);
                break;
            case "jobs" when live is not null:
                Immutable(live, obj, errors, "spec.selector", "spec.template", "spec.completions");
                break;
            case "persistentvolumeclaims" when live is not null:
                ValidateClaimUpdate(obj, live, errors);
                break;
            case "rolebindings" or "clusterrolebindings" when live is not null && !KubeJson.Same(live["roleRef"], obj["roleRef"]):
                errors.Add(new("roleRef", "FieldValueInvalid", $"Invalid value: {Show(obj["roleRef"])}: cannot change roleRef"));
                break;
            case "services" when live is not null && !string.IsNullOrEmpty(live.Str("spec", "clusterIP")) && !string.IsNullOrEmpty(obj.Str("spec", "clusterIP"))
                && live.Str("spec", "clusterIP") != obj.Str("spec", "clusterIP"):
                errors.Add(new("spec.clusterIP", "FieldValueInvalid", $"Invalid value: \"{obj.Str("spec", "clusterIP")}\": field is immutable"));
                break;
        }

        if (errors.Count > 0)
        {
            throw Invalid(r, obj.Str("metadata", "name") ?? "", errors);
        }
    }

    private sealed record FieldError(string Field, string Reason, string Message);

    private static void ValidateWorkload(KubeResource r, JsonObject obj, JsonObject? live, List<FieldError> errors)
    {
        if (obj["spec"] is not JsonObject spec)
        {
            errors.Add(new("spec", "FieldValueRequired", "Required value"));
            return;
        }

        if (spec["selector"] is not JsonObject selector)
        {
            errors.Add(new("spec.selector", "FieldValueRequired", "Required value"));
            return;
        }

        if (r.Plural == "statefulsets" && live?["spec"] is JsonObject liveSpec)
        {
            // The real validation compares the whole spec with the fields an update may change put back: a new
            // selector, serviceName, volumeClaimTemplates or podManagementPolicy is one Forbidden on "spec".
            var mutable = new[] { "replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds" };
            var before = liveSpec.Clone();
            var after = spec.Clone();
            foreach (var field in mutable)
            {
                before.Remove(field);
                after.Remove(field);
            }

            if (!KubeJson.Same(before, after))
            {
                errors.Add(new("spec", "FieldValueForbidden",
                    "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
            }
        }
        else if (live is not null)
        {
            Immutable(live, obj, errors, "spec.selector");
        }

        var template = spec["template"] as JsonObject;
        var podTemplate = new JsonObject { ["metadata"] = template?["metadata"]?.DeepClone() ?? new JsonObject() };
        if (!Selector.FromLabelSelector(selector).Matches(podTemplate))
        {
            errors.Add(new("spec.template.metadata.labels", "FieldValueInvalid", "Invalid value: `selector` does not match template `labels`"));
        }

        if (template?["spec"]?["containers"] is not JsonArray { Count: > 0 } containers)
        {
            errors.Add(new("spec.template.spec.containers", "FieldValueRequired", "Required value"));
            return;
        }

        for (var i = 0; i < containers.Count; i++)
        {
            if (string.IsNullOrEmpty(containers[i].Str("image")))
            {
                errors.Add(new($"spec.template.spec.containers[{i}].image", "FieldValueRequired", "Required value"));
            }
        }
    }

    /// <summary>A claim's spec is fixed once created, except its requested size, which may only grow.</summary>
    private static void ValidateClaimUpdate(JsonObject obj, JsonObject live, List<FieldError> errors)
    {
        var before = (live["spec"] as JsonObject)?.Clone() ?? [];
        var after = (obj["spec"] as JsonObject)?.Clone() ?? [];
        foreach (var spec in new[] { before, after })
        {
            spec.Remove("resources");
            spec.Remove("volumeAttributesClassName");
        }

        if (!KubeJson.Same(before, after))
        {
            errors.Add(new("spec", "FieldValueForbidden", "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"));
        }

        if (Storage(obj) is { } requested && Storage(live) is { } previous && requested < previous)
        {
            errors.Add(new("spec.resources.requests.storage", "FieldValueForbidden", "Forbidden: field can not be less than previous value"));
        }
    }

    private static decimal? Storage(JsonObject claim) =>
        claim.Str("spec", "resources", "requests", "storage") is { } text ? new k8s.Models.ResourceQuantity(text).ToDecimal() : null;

    /// <summary>Fields (dotted paths) that keep their value for the object's life: "field is immutable" when one changes.</summary>
    private static void Immutable(JsonObject live, JsonObject obj, List<FieldError> errors, params string[] fields)
    {
        foreach (var field in fields)
        {
            var path = field.Split('.');
            var before = KubeJson.Walk(live, path);
            var after = KubeJson.Walk(obj, path);
            if (before is not null && !KubeJson.Same(before, after))
            {
                errors.Add(new(field, "FieldValueInvalid", $"Invalid value: {Show(after)}: field is immutable"));
            }
        }
    }

    private static string Show(JsonNode? value) => value is null ? "null" : KubeJson.Serialize(value);

    private static KubeApiException Invalid(KubeResource r, string name, IReadOnlyList<FieldError> errors)
    {
        var lines = errors.Select(e => $"{e.Field}: {e.Message}").ToList();
        var message = $"{r.Kind}{(r.Group.Length > 0 ? "." + r.Group : "")} \"{name}\" is invalid: {(lines.Count == 1 ? lines[0] : "[" + string.Join(", ", lines) + "]")}";
        return new(422, "Invalid", message, new JsonObject
        {
            ["name"] = name,
            ["group"] = r.Group,
            ["kind"] = r.Kind,
            ["causes"] = new JsonArray([.. errors.Select(e => (JsonNode)new JsonObject { ["reason"] = e.Reason, ["message"] = e.Message, ["field"] = e.Field })]),
        });
    }
}
