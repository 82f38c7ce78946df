using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary>A field the API server refuses to change on a live object: what it is now, what the manifests want, and how to go on.</summary>
public sealed record ImmutableFieldChange(ObjectRef Object, string Field, string Live, string New, string Message)
{
    public string Fix => ReleaseGuard.FixFor(Object.Kind, Field, Live);

    public override string ToString() => $"{Object} {Field}: {Live} → {New} ({Message})";
}

public enum VolumeChangeKind
{
    /// <summary>A container's mount path now gets another claim or host path.</summary>
    Swapped,

    /// <summary>A claim or host path a container mounts today is not mounted any more.</summary>
    Removed,

    /// <summary>A claim asks for more storage (an EBS volume cannot shrink back).</summary>
    Grown,
}

/// <summary>A change of where data lives: a workload's claim or host path, or a claim's size.</summary>
public sealed record VolumeChange(ObjectRef Object, VolumeChangeKind Kind, string Where, string Live, string? New)
{
    public override string ToString() => Kind switch
    {
        VolumeChangeKind.Removed => $"{Object} {Where}: {Live} no longer mounted",
        _ => $"{Object} {Where}: {Live} → {New}",
    };
}

/// <summary>A change of where data lives that the user allowed for one object: <c>Kind/name</c> or <c>Kind/namespace/name</c>.</summary>
public sealed record VolumeAllowance(string Kind, string? Namespace, string Name)
{
    /// <summary>The allowance <paramref name="text"/> names, or null when it names no object (the caller words the error).</summary>
    public static VolumeAllowance? TryParse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(string.IsNullOrWhiteSpace))
            return null;
        return parts.Length == 2 ? new(parts[0], null, parts[1]) : new(parts[0], parts[1], parts[2]);
    }

    public bool Matches(ObjectRef obj) => new ObjectRef(Kind, Namespace, Name).Matches(obj);

    public override string ToString() => Namespace is null ? $"{Kind}/{Name}" : $"{Kind}/{Namespace}/{Name}";
}

/// <summary>
/// What a release would do to a running environment that it must not do unasked: the API server's refusals (immutable
/// fields), changes of where data lives, and the objects whose field ownership moves from client-side kubectl apply.
/// </summary>
public sealed record GuardReport(
    IReadOnlyList<ImmutableFieldChange> Refusals,
    IReadOnlyList<VolumeChange> VolumeChanges,
    IReadOnlyList<VolumeAllowance> Allowances,
    IReadOnlyList<AppliedObject> Takeovers)
{
    public static GuardReport Empty { get; } = new([], [], [], []);

    public VolumeAllowance? AllowanceFor(VolumeChange change) => Allowances.FirstOrDefault(a => a.Matches(change.Object));

    public IReadOnlyList<VolumeChange> AllowedVolumeChanges => [.. VolumeChanges.Where(c => AllowanceFor(c) is not null)];

    public IReadOnlyList<VolumeChange> BlockedVolumeChanges => [.. VolumeChanges.Where(c => AllowanceFor(c) is null)];

    /// <summary>Allowances that name no change of this release (a typo, or a change already made).</summary>
    public IReadOnlyList<VolumeAllowance> UnusedAllowances => [.. Allowances.Where(a => !VolumeChanges.Any(c => a.Matches(c.Object)))];

    public bool Blocking => Refusals.Count > 0 || BlockedVolumeChanges.Count > 0;

    /// <summary>The run report's view: names and values, no object bodies.</summary>
    public object ToReport() => new
    {
        refused = Refusals.Select(r => new { @object = r.Object.ToString(), field = r.Field, live = r.Live, @new = r.New, message = r.Message, fix = r.Fix }),
        volumeChanges = VolumeChanges.Select(c => new { @object = c.Object.ToString(), kind = c.Kind.ToString(), where = c.Where, live = c.Live, @new = c.New, allowedBy = AllowanceFor(c)?.ToString() }),
        takenOver = Takeovers.Select(t => new { @object = t.Object.ToString(), from = t.TakenOverFrom }),
    };
}

/// <summary>Judges a server-side dry run of a release against what runs (pure).</summary>
public static partial class ReleaseGuard
{
    private static readonly string[] StatefulSetMutable = ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];
    private static readonly string[] ClaimMutable = ["resources", "volumeAttributesClassName"];

    public static GuardReport Judge(ApplyReport dryRun, IReadOnlyList<VolumeAllowance> allowances)
    {
        var refusals = dryRun.Objects.Where(o => o.Outcome == ApplyOutcome.Refused).SelectMany(Refusals).ToList();
        var volumes = new List<VolumeChange>();
        foreach (var applied in dryRun.Objects.Where(o => o.Live is not null && o.Outcome != ApplyOutcome.Refused))
        {
            // After a takeover the manifest alone says which fields stay (the client-side manager no longer keeps any).
            var projected = applied.TakenOverFrom.Count > 0 || applied.Result is null ? applied.Desired : applied.Result;
            if (projected is not null)
                volumes.AddRange(VolumeChanges(applied.Object, applied.Live!, projected));
        }
        return new GuardReport(refusals, volumes, allowances, dryRun.TakenOver);
    }

    /// <summary>Each field a refused object names, with the live and the wanted value ("spec" refusals narrowed to the fields that differ).</summary>
    public static IReadOnlyList<ImmutableFieldChange> Refusals(AppliedObject refused)
    {
        var message = refused.Refusal?.ApiMessage ?? refused.Note ?? "refused";
        var causes = refused.Refusal?.Causes is { Count: > 0 } c ? c : [new StatusCause(null, null, message)];
        var result = new List<ImmutableFieldChange>();
        foreach (var cause in causes)
        {
            var field = cause.Field ?? "";
            var narrowed = field == "spec" && refused.Live is { } live && refused.Desired is { } desired
                ? DifferingSpecFields(refused.Object.Kind, live, desired)
                : [];
            foreach (var path in narrowed.Count > 0 ? narrowed : [field])
                result.Add(new ImmutableFieldChange(refused.Object, path.Length == 0 ? "(object)" : path,
                    Show(ValueAt(refused.Live, path)), Show(ValueAt(refused.Desired, path)), cause.Message));
        }
        return result;
    }

    /// <summary>The spec fields an update may not change (by kind) whose wanted value the live object does not have.</summary>
    private static List<string> DifferingSpecFields(string kind, JsonObject live, JsonObject desired)
    {
        var mutable = kind switch
        {
            "StatefulSet" => StatefulSetMutable,
            "PersistentVolumeClaim" => ClaimMutable,
            _ => [],
        };
        return [.. (desired["spec"] as JsonObject ?? [])
            .Where(p => !mutable.Contains(p.Key) && !Contains(live["spec"]?[p.Key], p.Value))
            .Select(p => $"spec.{p.Key}")];
    }

    /// <summary>Whether <paramref name="live"/> has every value <paramref name="wanted"/> sets (server defaults may add more).</summary>
    public static bool Contains(JsonNode? live, JsonNode? wanted) => (live, wanted) switch
    {
        (_, null) => true,
        (JsonObject l, JsonObject w) => w.All(p => Contains(l[p.Key], p.Value)),
        (JsonArray l, JsonArray w) => l.Count == w.Count && w.Select((item, i) => Contains(l[i], item)).All(x => x),
        _ => JsonNode.DeepEquals(live, wanted) || (live is JsonValue && wanted is JsonValue && live.ToJsonString().Trim('"') == wanted.ToJsonString().Trim('"')),
    };

    public static string FixFor(string kind, string field, string live) => (kind, field) switch
    {
        (_, "spec.selector") => "selectors never change: keep the live selector in the manifests (labels may be added to the pod template, never to the selector)",
        (_, "roleRef") => "a binding's roleRef never changes: keep the live roleRef, or bind the new role under a new binding name (and delete the old binding by hand)",
        ("StatefulSet", _) => $"keep the live {field}: a StatefulSet's selector, serviceName, volumeClaimTemplates and podManagementPolicy never change; changing one means recreating it by hand (kubectl delete --cascade=orphan keeps its pods and claims)",
        ("PersistentVolumeClaim", "spec.resources.requests.storage") => $"a volume cannot shrink: keep the live size {live}",
        ("PersistentVolumeClaim", _) => $"keep the live {field}: another storage class or access mode is a new claim under a new name and a data migration",
        ("Job", _) => "a Job's template never changes: give the Job a new name, or delete the finished Job first",
        _ => $"the API server refuses to change {field} of an existing {kind}: make the manifests keep the live value",
    };

    /// <summary>Where each container mounts data (claim, claim template or host path), compared before and after.</summary>
    public static IReadOnlyList<VolumeChange> VolumeChanges(ObjectRef obj, JsonObject live, JsonObject projected)
    {
        var changes = new List<VolumeChange>();
        if (obj.Kind == "PersistentVolumeClaim")
        {
            if (Storage(live) is { } before && Storage(projected) is { } after && after.Value > before.Value)
                changes.Add(new VolumeChange(obj, VolumeChangeKind.Grown, "spec.resources.requests.storage", before.Text, after.Text));
            return changes;
        }
        var wanted = DataMounts(projected);
        foreach (var (where, source) in DataMounts(live))
        {
            if (!wanted.TryGetValue(where, out var next))
                changes.Add(new VolumeChange(obj, VolumeChangeKind.Removed, where, source, null));
            else if (next != source)
                changes.Add(new VolumeChange(obj, VolumeChangeKind.Swapped, where, source, next));
        }
        return changes;
    }

    /// <summary>"container C at /path" → "PVC x" / "host path /x" / "claim template x", for mounts of volumes that hold data.</summary>
    public static IReadOnlyDictionary<string, string> DataMounts(JsonObject workload)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var obj = new KubeObject(workload);
        if (PodTemplates.PodSpec(obj) is not { } podSpec)
            return result;
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var template in workload["spec"]?["volumeClaimTemplates"] as JsonArray ?? [])
            if ((string?)template?["metadata"]?["name"] is { } name)
                sources[name] = $"claim template {name}";
        foreach (var volume in podSpec["volumes"] as JsonArray ?? [])
        {
            if ((string?)volume?["name"] is not { } name)
                continue;
            if ((string?)volume["persistentVolumeClaim"]?["claimName"] is { } claim)
                sources[name] = $"PVC {claim}";
            else if ((string?)volume["hostPath"]?["path"] is { } path)
                sources[name] = $"host path {path}";
            else
                sources.Remove(name);
        }
        foreach (var (container, isInit) in PodTemplates.Containers(podSpec))
            foreach (var mount in container["volumeMounts"] as JsonArray ?? [])
                if ((string?)mount?["name"] is { } volume && sources.TryGetValue(volume, out var source))
                    result[$"{(isInit ? "init container" : "container")} {(string?)container["name"]} at {(string?)mount["mountPath"]}"] = source;
        return result;
    }

    private static (string Text, decimal Value)? Storage(JsonObject claim) =>
        (string?)claim["spec"]?["resources"]?["requests"]?["storage"] is { } text ? (text, new ResourceQuantity(text).ToDecimal()) : null;

    private static string Show(JsonNode? value)
    {
        if (value is null)
            return "(none)";
        var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value.ToJsonString();
        return text.Length > 160 ? text[..157] + "..." : text;
    }

    /// <summary>The value at a dotted path with optional indexes ("spec.template.spec.containers[0].image").</summary>
    public static JsonNode? ValueAt(JsonNode? root, string path)
    {
        if (path.Length == 0)
            return null;
        var node = root;
        foreach (var segment in path.Split('.'))
        {
            var match = Segment().Match(segment);
            if (!match.Success)
                return null;
            node = node is JsonObject o ? o[match.Groups["name"].Value] : null;
            foreach (Capture index in match.Groups["index"].Captures)
                node = node is JsonArray a && int.TryParse(index.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count ? a[i] : null;
        }
        return node;
    }

    [GeneratedRegex(@"^(?<name>[^\[\]]+)(\[(?<index>\d+)\])*$")]
    private static partial Regex Segment();
}
