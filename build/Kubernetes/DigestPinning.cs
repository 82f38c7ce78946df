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
        var configMaps = (runtimeConfigMaps ?? []).ToList();
        var envNames = new HashSet<string>(runtimeEnvVariables ?? [], StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var changes = new List<PinnedImage>();
        var unpinned = new List<WorkloadImageUse>();
        var result = new List<KubeObject>();

        string? Rewrite(string image)
        {
            var reference = ImageReference.Parse(image);
            if (!pins.TryGetValue(reference.Repository, out var pinned))
                return null;
            used.Add(reference.Repository);
            return pinned == image ? null : pinned;
        }

        foreach (var original in objects)
        {
            var obj = original.Clone();
            if (PodTemplates.PodSpec(obj) is { } podSpec)
            {
                foreach (var (container, isInit) in PodTemplates.Containers(podSpec))
                {
                    var name = (string?)container["name"] ?? "";
                    if ((string?)container["image"] is { } image)
                    {
                        if (Rewrite(image) is { } pinned)
                        {
                            container["image"] = pinned;
                            changes.Add(new PinnedImage(obj.Ref, $"{(isInit ? "initContainer" : "container")} {name}", image, pinned));
                        }
                        else if (!pins.ContainsKey(ImageReference.Parse(image).Repository))
                        {
                            unpinned.Add(new WorkloadImageUse(obj.Ref, name, isInit, ImageReference.Parse(image)));
                        }
                    }
                    if (envNames.Count > 0 && container["env"] is JsonArray env)
                        foreach (var variable in env.OfType<JsonObject>())
                            if ((string?)variable["name"] is { } envName && envNames.Contains(envName)
                                && (string?)variable["value"] is { } value && Rewrite(value) is { } pinnedValue)
                            {
                                variable["value"] = pinnedValue;
                                changes.Add(new PinnedImage(obj.Ref, $"container {name} env {envName}", value, pinnedValue));
                            }
                }
            }
            if (obj.Kind == "ConfigMap" && configMaps.Any(c => c.Matches(obj.Ref)) && obj.Body["data"] is JsonObject data)
            {
                foreach (var key in data.Select(p => p.Key).ToList())
                    if ((string?)data[key] is { } value && Rewrite(value.Trim()) is { } pinnedValue)
                    {
                        data[key] = pinnedValue;
                        changes.Add(new PinnedImage(obj.Ref, $"data {key}", value, pinnedValue));
                    }
            }
            result.Add(obj);
        }

        // A pin that no rewrite needed because the manifest already carries it still counts as used.
        foreach (var use in WorkloadImages.FromManifests(result))
            if (pins.ContainsKey(use.Image.Repository))
                used.Add(use.Image.Repository);
        return new PinningResult(result, changes, unpinned, [.. pins.Keys.Where(k => !used.Contains(k)).Order(StringComparer.Ordinal)]);
    }
}
