using System.Net;
using System.Text.Json.Nodes;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

public sealed record ApplyOptions
{
    public string FieldManager { get; init; } = FieldManagers.Pipeline;

    /// <summary>Objects another tool owns (Terraform): never applied, listed as skipped.</summary>
    public IReadOnlyList<ObjectRef> Excluded { get; init; } = [];

    /// <summary>Namespace for namespaced objects the manifests leave without one.</summary>
    public string DefaultNamespace { get; init; } = "default";

    /// <summary>
    /// Take over fields another manager set (e.g. the legacy client-side kubectl apply). Safe because only objects
    /// the overlay owns are applied at all: the excluded ones never are.
    /// </summary>
    public bool Force { get; init; } = true;

    /// <summary>Server-side dry run (<c>dryRun=All</c>): nothing is persisted; each object gets its diff.</summary>
    public bool DryRun { get; init; }

    /// <summary>
    /// Before applying an object that client-side <c>kubectl apply</c> left, move its field ownership to
    /// <see cref="FieldManager"/> (<see cref="ClientSideApplyTakeover"/>), so that fields the manifests drop are removed.
    /// A dry run only reports which objects would be taken over.
    /// </summary>
    public bool TakeOverClientSideApply { get; init; } = true;
}

public enum ApplyOutcome
{
    Created,
    Configured,
    Unchanged,
    Skipped,

    /// <summary>The server's dry run refused the object (422 Invalid, e.g. an immutable field): only in dry runs.</summary>
    Refused,
}

/// <param name="PodTemplateChanged">The apply itself rolls this workload (new or changed pod template).</param>
public sealed record AppliedObject(ObjectRef Object, ApplyOutcome Outcome, bool PodTemplateChanged, IReadOnlyList<string> Diff, string? Note = null)
{
    public override string ToString() => $"{Object}: {Outcome.ToString().ToLowerInvariant()}{(Note is null ? "" : $" ({Note})")}";

    /// <summary>What the cluster had before (null: the object did not exist).</summary>
    public JsonObject? Live { get; init; }

    /// <summary>What the server stored (or, in a dry run, would store); null when refused.</summary>
    public JsonObject? Result { get; init; }

    /// <summary>The manifest as sent.</summary>
    public JsonObject? Desired { get; init; }

    /// <summary>Refused: the server's message and causes (each names a field).</summary>
    public KubeApiException? Refusal { get; init; }

    /// <summary>Client-side apply managers whose fields moved to this run's manager (a dry run: would move).</summary>
    public IReadOnlyList<string> TakenOverFrom { get; init; } = [];
}

public sealed record ApplyReport(IReadOnlyList<AppliedObject> Objects, bool DryRun)
{
    public int Count(ApplyOutcome outcome) => Objects.Count(o => o.Outcome == outcome);

    /// <summary>Workloads whose pod template this apply changed: their rollout already started.</summary>
    public IReadOnlyList<ObjectRef> RolledWorkloads => [.. Objects.Where(o => o.PodTemplateChanged).Select(o => o.Object)];

    public string Summary => $"{Count(ApplyOutcome.Created)} created, {Count(ApplyOutcome.Configured)} configured, {Count(ApplyOutcome.Unchanged)} unchanged, {Count(ApplyOutcome.Skipped)} skipped"
        + (Count(ApplyOutcome.Refused) > 0 ? $", {Count(ApplyOutcome.Refused)} refused" : "");

    /// <summary>Objects whose field ownership moved (or would move) from client-side kubectl apply.</summary>
    public IReadOnlyList<AppliedObject> TakenOver => [.. Objects.Where(o => o.TakenOverFrom.Count > 0)];
}

/// <summary>An object resolved against the server's discovery, namespace defaulted, ready to apply.</summary>
public sealed record PlannedObject(KubeObject Object, ApiResource Resource);

/// <summary>What would be applied, in order, and what is left to its owner.</summary>
public sealed record ApplyPlan(IReadOnlyList<PlannedObject> Objects, IReadOnlyList<ObjectRef> Skipped, ApplyOptions Options);

/// <summary>
/// Applies rendered objects with server-side apply, in dependency order, after checking every kind against the
/// server's discovery (an unknown kind stops the run before anything is applied).
/// </summary>
public sealed class ManifestApplier(KubeCluster cluster, ILogger logger)
{
    public async Task<ApplyPlan> PlanAsync(IEnumerable<KubeObject> objects, ApplyOptions options, CancellationToken cancellationToken)
    {
        var planned = new List<PlannedObject>();
        var skipped = new List<ObjectRef>();
        var unknown = new List<string>();
        try
        {
            await cluster.DiscoverAsync(cancellationToken);
        }
        catch (Exception e) when (ClusterUnreachable.Is(e, cancellationToken))
        {
            throw new BuildFailure($"{ClusterUnreachable.Outcome}: {ClusterUnreachable.Describe(cluster, "reading which kinds it serves", e)}. Nothing was applied.", ClusterUnreachable.Fix, e);
        }
        foreach (var obj in ApplyOrder.Sort(objects))
        {
            var resource = await cluster.ResolveAsync(obj.ApiVersion, obj.Kind, cancellationToken);
            if (resource is null)
            {
                unknown.Add($"{obj.Kind} {obj.Name} ({obj.ApiVersion})");
                continue;
            }
            var placed = resource.Namespaced && obj.Namespace is null ? obj.WithNamespace(options.DefaultNamespace) : obj;
            if (options.Excluded.Any(e => e.Matches(placed.Ref)))
            {
                skipped.Add(placed.Ref);
                continue;
            }
            planned.Add(new PlannedObject(placed, resource));
        }
        if (unknown.Count > 0)
            throw new BuildFailure($"The cluster {cluster.DisplayName} does not know {unknown.Count} kind(s) in the manifests, so nothing was applied: {string.Join("; ", unknown)}.",
                "Install the CRDs (or enable the API) they need first, or fix the apiVersion/kind in the overlay.");
        return new ApplyPlan(planned, skipped, options);
    }

    public async Task<ApplyReport> ApplyAsync(ApplyPlan plan, CancellationToken cancellationToken)
    {
        var options = plan.Options;
        var results = new List<AppliedObject>();
        foreach (var skipped in plan.Skipped)
        {
            logger.Information("{Object}: skipped (owned outside the overlay)", skipped);
            results.Add(new AppliedObject(skipped, ApplyOutcome.Skipped, false, [], "owned outside the overlay"));
        }
        ObjectRef? current = null;
        try
        {
            foreach (var (obj, resource) in plan.Objects)
            {
                current = obj.Ref;
                results.Add(await ApplyOneAsync(obj, resource, options, cancellationToken));
            }
        }
        catch (Exception e) when (current is not null && ClusterUnreachable.Is(e, cancellationToken))
        {
            throw Unreachable(plan, current, [.. results.Where(r => r.Outcome != ApplyOutcome.Skipped).Select(r => r.Object)], e);
        }
        return new ApplyReport(results, options.DryRun);
    }

    private async Task<AppliedObject> ApplyOneAsync(KubeObject obj, ApiResource resource, ApplyOptions options, CancellationToken cancellationToken)
    {
        var before = await cluster.GetAsync(resource, obj.Namespace, obj.Name, cancellationToken);
        IReadOnlyList<string> takenOver = [];
        if (options.TakeOverClientSideApply && before is not null)
            takenOver = options.DryRun
                ? ClientSideApplyTakeover.ClientSideManagers(before)
                : await ClientSideApplyTakeover.TakeOverAsync(cluster, resource, before, options.FieldManager, logger, cancellationToken);
        JsonObject after;
        try
        {
            after = await cluster.ApplyAsync(resource, obj, options.FieldManager, options.Force, options.DryRun, cancellationToken);
        }
        catch (KubeApiException e) when (options.DryRun && e.Status == HttpStatusCode.UnprocessableEntity)
        {
            // A refusal is a finding of the dry run (the release plan lists every one), not the end of it.
            var refused = new AppliedObject(obj.Ref, ApplyOutcome.Refused, false, [], e.ApiMessage) { Live = before, Desired = obj.Body, Refusal = e, TakenOverFrom = takenOver };
            logger.Information("[dry-run] {Result}", refused.ToString());
            return refused;
        }
        catch (KubeApiException e) when (options.DryRun && e.Status == HttpStatusCode.NotFound && obj.Namespace is not null && before is null)
        {
            // The real API server too refuses a dry run into a namespace that only this apply would create.
            var created = new AppliedObject(obj.Ref, ApplyOutcome.Created, PodTemplates.RolloutKinds.Contains(obj.Kind), Differences(null, obj.Body),
                $"namespace {obj.Namespace} does not exist yet: not validated by the server")
            { Desired = obj.Body };
            logger.Information("[dry-run] {Result}", created.ToString());
            return created;
        }
        catch (KubeApiException e) when (e.Status == HttpStatusCode.Conflict)
        {
            throw new BuildFailure($"Applying {obj.Ref} conflicts with another field manager: {e.ApiMessage}",
                "Another tool manages those fields: exclude the object from the overlay's apply, or remove the other manager's fields.");
        }
        catch (KubeApiException e)
        {
            throw new BuildFailure($"Applying {obj.Ref} failed: {e.Message}", e.Status == HttpStatusCode.Forbidden
                ? "The identity lacks a permission the permission preflight did not cover; use a role that may apply the whole overlay."
                : "Check the object against the server's validation (the message above), fix the overlay and run again.");
        }
        var diff = Differences(before, after);
        var outcome = Outcome(before, after, diff, options.DryRun);
        var templateChanged = PodTemplates.RolloutKinds.Contains(obj.Kind) && outcome != ApplyOutcome.Unchanged
            && (before is null || PodTemplate(before)?.ToJsonString() != PodTemplate(after)?.ToJsonString());
        var note = templateChanged ? "pod template changed: rolls out" : null;
        if (takenOver.Count > 0)
            note = (note is null ? "" : note + "; ") + $"{(options.DryRun ? "would take" : "took")} over the fields of {string.Join(", ", takenOver)}";
        var result = new AppliedObject(obj.Ref, outcome, templateChanged, diff, note) { Live = before, Result = after, Desired = obj.Body, TakenOverFrom = takenOver };
        logger.Information("{Prefix}{Result}", options.DryRun ? "[dry-run] " : "", result.ToString());
        if (options.DryRun)
            foreach (var line in diff)
                logger.Information("    {Line:l}", line);
        return result;
    }

    /// <summary>Which object the cluster stopped answering at, what was applied before it and what was not.</summary>
    private BuildFailure Unreachable(ApplyPlan plan, ObjectRef at, IReadOnlyList<ObjectRef> applied, Exception e)
    {
        var notApplied = plan.Objects.Select(o => o.Object.Ref).SkipWhile(r => r != at).ToList();
        static string List(IReadOnlyList<ObjectRef> refs) => refs.Count == 0 ? "none" : string.Join(", ", refs.Take(12)) + (refs.Count > 12 ? $" and {refs.Count - 12} more" : "");
        var verb = plan.Options.DryRun ? "dry-run applying" : "applying";
        return new BuildFailure(
            $"{ClusterUnreachable.Outcome}: {ClusterUnreachable.Describe(cluster, $"{verb} {at}", e)}. Applied before it ({applied.Count}): {List(applied)}. Not applied ({notApplied.Count}, from {at} on): {List(notApplied)}.",
            ClusterUnreachable.Fix + " Server-side apply is idempotent: a new run applies what is missing and leaves the rest as it is.", e);
    }

    /// <summary>
    /// Created when there was nothing before. Otherwise unchanged when nothing but server-maintained fields differ; a
    /// real apply is also unchanged when it left the resource version alone (a dry run never moves the version, and a
    /// controller's status update between the read and the apply moves it without any change of ours).
    /// </summary>
    public static ApplyOutcome Outcome(JsonObject? before, JsonObject after, IReadOnlyList<string> differences, bool dryRun) =>
        before is null ? ApplyOutcome.Created
        : differences.Count == 0 || (!dryRun && ResourceVersion(before) == ResourceVersion(after)) ? ApplyOutcome.Unchanged
        : ApplyOutcome.Configured;

    private static string? ResourceVersion(JsonObject obj) => (string?)obj["metadata"]?["resourceVersion"];

    private static JsonNode? PodTemplate(JsonObject obj) => obj["spec"]?["template"];

    private static readonly string[] Volatile = ["metadata.managedFields", "metadata.resourceVersion", "metadata.generation", "metadata.uid", "metadata.creationTimestamp", "status"];

    /// <summary>Path-level differences between two object versions, without fields the server maintains.</summary>
    public static IReadOnlyList<string> Differences(JsonNode? before, JsonNode? after)
    {
        var lines = new List<string>();
        void Walk(string path, JsonNode? a, JsonNode? b)
        {
            if (Volatile.Contains(path))
                return;
            if (a is JsonObject oa && b is JsonObject ob)
            {
                foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                    Walk(path.Length == 0 ? key : $"{path}.{key}", oa[key], ob[key]);
                return;
            }
            if (a is JsonArray aa && b is JsonArray ab && aa.Count == ab.Count)
            {
                for (var i = 0; i < aa.Count; i++)
                    Walk($"{path}[{i}]", aa[i], ab[i]);
                return;
            }
            if (JsonNode.DeepEquals(a, b))
                return;
            if (a is null)
                lines.Add($"+ {path}: {b!.ToJsonString()}");
            else if (b is null)
                lines.Add($"- {path}: {a.ToJsonString()}");
            else
                lines.Add($"~ {path}: {a.ToJsonString()} → {b.ToJsonString()}");
        }
        Walk("", before ?? new JsonObject(), after);
        return lines;
    }
}
