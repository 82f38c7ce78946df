using System.Net;
using System.Text.Json.Nodes;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary>
/// Moves field ownership from client-side <c>kubectl apply</c> to a server-side apply field manager, the way
/// <c>kubectl apply --server-side</c> migrates an object (client-go's csaupgrade): the managers whose <c>Update</c>
/// entries own the last-applied annotation are the client-side ones; their fields are united into the server-side
/// manager's <c>Apply</c> entry (an existing one, else the newest client-side entry turned into it) and their
/// <c>Update</c> entries go. Without this, a field the client-side manager co-owns stays in the cluster after the
/// manifests drop it: server-side apply removes only fields no other manager owns.
/// </summary>
public static class ClientSideApplyTakeover
{
    public const string LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";

    private const string AnnotationField = "f:" + LastAppliedAnnotation;

    /// <summary>
    /// The client-side managers of a live object (pure): those with an <c>Update</c> entry (no subresource) that owns the
    /// last-applied annotation, when the object carries it. Empty: nothing to take over (new, or already moved).
    /// </summary>
    public static IReadOnlyList<string> ClientSideManagers(JsonObject live)
    {
        if (live["metadata"]?["annotations"]?[LastAppliedAnnotation] is null || live["metadata"]?["managedFields"] is not JsonArray entries)
            return [];
        return [.. entries.OfType<JsonObject>()
            .Where(e => (string?)e["operation"] == "Update" && e["subresource"] is null && e["fieldsV1"]?["f:metadata"]?["f:annotations"]?[AnnotationField] is not null)
            .Select(e => (string?)e["manager"] ?? "")
            .Distinct()];
    }

    /// <summary>
    /// The managedFields after the move (pure), or null when there is nothing to move. Each client-side manager in turn:
    /// the target is <paramref name="manager"/>'s Apply entry, else the first Update entry of the client-side manager,
    /// which becomes it; the client-side Update entry of the target's API version is united into it; every
    /// client-side Update entry (no subresource) is dropped.
    /// </summary>
    public static JsonArray? Upgrade(JsonArray managedFields, IReadOnlyCollection<string> clientSideManagers, string manager)
    {
        var entries = managedFields.OfType<JsonObject>().Select(e => (JsonObject)e.DeepClone()).ToList();
        foreach (var clientSide in clientSideManagers)
        {
            bool IsClientSide(JsonObject e) => (string?)e["manager"] == clientSide && (string?)e["operation"] == "Update" && e["subresource"] is null;
            var target = entries.FirstOrDefault(e => (string?)e["manager"] == manager && (string?)e["operation"] == "Apply" && e["subresource"] is null);
            if (target is null)
            {
                target = entries.FirstOrDefault(IsClientSide);
                if (target is null)
                    continue;
                target["manager"] = manager;
                target["operation"] = "Apply";
            }
            var source = entries.FirstOrDefault(e => IsClientSide(e) && (string?)e["apiVersion"] == (string?)target["apiVersion"]);
            if (source is not null)
                target["fieldsV1"] = Union(target["fieldsV1"] as JsonObject ?? [], source["fieldsV1"] as JsonObject ?? []);
            entries.RemoveAll(IsClientSide);
        }
        var upgraded = new JsonArray([.. entries]);
        return JsonNode.DeepEquals(upgraded, managedFields) ? null : upgraded;
    }

    /// <summary>Two FieldsV1 trees as one: every path either owns.</summary>
    public static JsonObject Union(JsonObject a, JsonObject b)
    {
        var result = (JsonObject)a.DeepClone();
        foreach (var (key, value) in b)
        {
            if (result[key] is JsonObject mine && value is JsonObject theirs)
                result[key] = Union(mine, theirs);
            else if (!result.ContainsKey(key))
                result[key] = value?.DeepClone();
        }
        return result;
    }

    /// <summary>
    /// Moves the ownership on the server: a JSON patch that replaces managedFields and the resourceVersion they were
    /// computed from (a concurrent write makes it a 409; the object is read again and the move recomputed, a few times).
    /// Returns the client-side managers whose fields moved, empty when there were none.
    /// </summary>
    public static async Task<IReadOnlyList<string>> TakeOverAsync(KubeCluster cluster, ApiResource resource, JsonObject live, string manager, ILogger logger, CancellationToken cancellationToken)
    {
        const int attempts = 5;
        var current = live;
        for (var attempt = 1; ; attempt++)
        {
            var managers = ClientSideManagers(current);
            if (managers.Count == 0 || current["metadata"]?["managedFields"] is not JsonArray fields || Upgrade(fields, managers, manager) is not { } upgraded)
                return [];
            var ns = (string?)current["metadata"]?["namespace"];
            var name = (string?)current["metadata"]?["name"] ?? "";
            var patch = new JsonArray(
                new JsonObject { ["op"] = "replace", ["path"] = "/metadata/managedFields", ["value"] = upgraded },
                new JsonObject { ["op"] = "replace", ["path"] = "/metadata/resourceVersion", ["value"] = (string?)current["metadata"]?["resourceVersion"] });
            try
            {
                await cluster.JsonPatchAsync(resource, ns, name, patch, manager, cancellationToken);
                logger.Information("{Kind}/{Name}: field ownership moved from {Managers} to {Manager} (taken over from kubectl apply)", resource.Kind, name, string.Join(", ", managers), manager);
                return managers;
            }
            catch (KubeApiException e) when (e.Status == HttpStatusCode.Conflict && attempt < attempts)
            {
                current = await cluster.GetAsync(resource, ns, name, cancellationToken) ?? throw new BuildFailure($"{resource.Kind} {name} disappeared while its field ownership was being moved.");
            }
            catch (KubeApiException e)
            {
                throw new BuildFailure($"Moving the field ownership of {resource.Kind} {name} from {string.Join(", ", managers)} to {manager} failed: {e.Message}",
                    "Another writer kept changing it, or the role may not patch it: run again (the move happens once per object, before its apply).");
            }
        }
    }
}
