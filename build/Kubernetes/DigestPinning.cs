using System.Text.Json.Nodes;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes;

/// <summary>One image reference rewritten to a digest: where, and from what to what.</summary>
public sealed record PinnedImage(ObjectRef Object, string Location, string Before, string After);

public sealed record PinningResult(
    IReadOnlyList<KubeObject> Objects,
    IReadOnlyList<PinnedImage> Changes,
    IReadOnlyList<WorkloadImageUse> Unpinned,
    IReadOnlyList<string> UnusedRepositories);

/// <summary>
/// Rewrites image references to <c>repository@sha256:…</c> (pure): every container and init container of every
/// workload, plus runtime references the caller names (values of ConfigMaps, container env variables).
/// The same inputs always give the same output, so an unchanged redeploy changes no pod template.
/// </summary>
public static class DigestPinning
{
    /// <param name="pins">Image repository (registry/path, no tag) → pinned reference <c>repository@sha256:…</c>.</param>
    /// <param name="runtimeConfigMaps">ConfigMaps whose values hold image references to pin (by name, optional namespace).</param>
    /// <param name="runtimeEnvVariables">Container environment variables whose values are image references.</param>
    public static PinningResult Pin(
        IEnumerable<KubeObject> objects,
        IReadOnlyDictionary<string, string> pins,
        IEnumerable<ObjectRef>? runtimeConfigMaps = null,
        IEnumerable<string>? runtimeEnvVariables = null)
    {
        foreach (var (repository, pinned) in pins)
        {
            var reference = ImageReference.Parse(pinned);
            if (reference.Digest is null || !reference.Digest.StartsWith("sha256:", StringComparison.Ordinal) || reference.Repository != repository)
                throw new ArgumentException($"The pin for '{repository}' must be '{repository}@sha256:<digest>', got '{pinned}'.", nameof(pins));
        }
        var used = new HashSet<string>(StringComparer.Ordinal);
        var changes = new List<PinnedImage>();
        var unpinned = new List<WorkloadImageUse>();
        var result = new List<KubeObject>();
        foreach (var original in objects)
        {
            var obj = original.Clone();
            Visit(obj, runtimeConfigMaps, runtimeEnvVariables, slot =>
            {
                if (!pins.TryGetValue(slot.Image.Repository, out var pinned))
                {
                    if (slot.Container is { } container)
                        unpinned.Add(new WorkloadImageUse(obj.Ref, container, slot.IsInit, slot.Image));
                    return null;
                }
                used.Add(slot.Image.Repository);
                if (pinned == slot.Text)
                    return null;
                changes.Add(new PinnedImage(obj.Ref, slot.Location, slot.Text, pinned));
                return pinned;
            });
            result.Add(obj);
        }

        return new PinningResult(result, changes, unpinned, [.. pins.Keys.Where(k => !used.Contains(k)).Order(StringComparer.Ordinal)]);
    }

    /// <summary>
    /// Every image reference <see cref="Pin"/> would rewrite, by repository: the objects carrying it (in manifest
    /// order, each once) and the references themselves. Read from live objects, it says what runs (or starts) there.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<(ObjectRef Object, ImageReference Image)>> References(
        IEnumerable<KubeObject> objects, IEnumerable<ObjectRef>? runtimeConfigMaps = null, IEnumerable<string>? runtimeEnvVariables = null)
    {
        var found = new List<(ObjectRef Object, ImageReference Image)>();
        foreach (var obj in objects)
            Visit(obj, runtimeConfigMaps, runtimeEnvVariables, slot =>
            {
                found.Add((obj.Ref, slot.Image));
                return null;
            });
        return found.GroupBy(f => f.Image.Repository, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<(ObjectRef, ImageReference)>)[.. g.Distinct()], StringComparer.Ordinal);
    }

    /// <summary>One place an image reference is written: the text as written, and the container when it is a container's image.</summary>
    private sealed record ImageSlot(string Location, string Text, ImageReference Image, string? Container, bool IsInit);

    /// <summary>Hands every image reference of the object to <paramref name="rewrite"/>, writing back what it returns (null: leave it).</summary>
    private static void Visit(KubeObject obj, IEnumerable<ObjectRef>? runtimeConfigMaps, IEnumerable<string>? runtimeEnvVariables, Func<ImageSlot, string?> rewrite)
    {
        var envNames = new HashSet<string>(runtimeEnvVariables ?? [], StringComparer.Ordinal);
        if (PodTemplates.PodSpec(obj) is { } podSpec)
        {
            foreach (var (container, isInit) in PodTemplates.Containers(podSpec))
            {
                var name = (string?)container["name"] ?? "";
                if ((string?)container["image"] is { } image
                    && rewrite(new ImageSlot($"{(isInit ? "initContainer" : "container")} {name}", image, ImageReference.Parse(image), name, isInit)) is { } pinned)
                    container["image"] = pinned;
                if (envNames.Count > 0 && container["env"] is JsonArray env)
                    foreach (var variable in env.OfType<JsonObject>())
                        if ((string?)variable["name"] is { } envName && envNames.Contains(envName) && (string?)variable["value"] is { } value
                            && rewrite(new ImageSlot($"container {name} env {envName}", value, ImageReference.Parse(value), null, false)) is { } pinnedValue)
                            variable["value"] = pinnedValue;
            }
        }
        if (obj.Kind == "ConfigMap" && (runtimeConfigMaps ?? []).Any(c => c.Matches(obj.Ref)) && obj.Body["data"] is JsonObject data)
            foreach (var key in data.Select(p => p.Key).ToList())
                if ((string?)data[key] is { } value && rewrite(new ImageSlot($"data {key}", value.Trim(), ImageReference.Parse(value.Trim()), null, false)) is { } pinnedValue)
                    data[key] = pinnedValue;
    }
}
