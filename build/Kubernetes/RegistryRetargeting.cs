using System.Text.Json.Nodes;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes;

/// <summary>
/// Moves image references from the registry an overlay was written for to the registry a run pushes to (pure):
/// <c>localhost:5000/tesslate-backend:local</c> → <c>127.0.0.1:5001/tesslate-backend:local</c>. Only the named
/// repositories move, in the places digest pinning reads (containers, init containers, named env variables, values of
/// named ConfigMaps), plus env variables whose value is the bare registry (a prefix for images a workload starts).
/// Tags and digests are kept, so pinning afterwards sees references to the registry it pins for.
/// </summary>
public static class RegistryRetargeting
{
    /// <param name="from">The registry (host[:port]) the rendered manifests name, e.g. <c>localhost:5000</c>.</param>
    /// <param name="to">The registry the images are in.</param>
    /// <param name="repositories">Repository paths under the registry to move (e.g. <c>tesslate-backend</c>); others stay.</param>
    /// <param name="runtimeConfigMaps">ConfigMaps whose values hold image references.</param>
    /// <param name="runtimeEnvVariables">Container environment variables whose values are image references.</param>
    /// <param name="registryEnvVariables">Container environment variables whose value is the registry itself.</param>
    public static IReadOnlyList<KubeObject> Retarget(
        IEnumerable<KubeObject> objects,
        string from,
        string to,
        IEnumerable<string> repositories,
        IEnumerable<ObjectRef>? runtimeConfigMaps = null,
        IEnumerable<string>? runtimeEnvVariables = null,
        IEnumerable<string>? registryEnvVariables = null)
    {
        if (from == to)
            return [.. objects];
        var moved = new HashSet<string>(repositories.Select(r => $"{from}/{r}"), StringComparer.Ordinal);
        var configMaps = (runtimeConfigMaps ?? []).ToList();
        var imageVariables = new HashSet<string>(runtimeEnvVariables ?? [], StringComparer.Ordinal);
        var registryVariables = new HashSet<string>(registryEnvVariables ?? [], StringComparer.Ordinal);

        string? Move(string image)
        {
            var reference = ImageReference.Parse(image);
            return moved.Contains(reference.Repository) ? (reference with { Repository = to + reference.Repository[from.Length..] }).ToString() : null;
        }

        var result = new List<KubeObject>();
        foreach (var original in objects)
        {
            var obj = original.Clone();
            if (PodTemplates.PodSpec(obj) is { } podSpec)
            {
                foreach (var (container, _) in PodTemplates.Containers(podSpec))
                {
                    if ((string?)container["image"] is { } image && Move(image) is { } retargeted)
                        container["image"] = retargeted;
                    if (container["env"] is not JsonArray env)
                        continue;
                    foreach (var variable in env.OfType<JsonObject>())
                    {
                        if ((string?)variable["name"] is not { } name || (string?)variable["value"] is not { } value)
                            continue;
                        if (imageVariables.Contains(name) && Move(value) is { } movedValue)
                            variable["value"] = movedValue;
                        else if (registryVariables.Contains(name) && value.Trim() == from)
                            variable["value"] = to;
                    }
                }
            }
            if (obj.Kind == "ConfigMap" && configMaps.Any(c => c.Matches(obj.Ref)) && obj.Body["data"] is JsonObject data)
            {
                foreach (var key in data.Select(p => p.Key).ToList())
                    if ((string?)data[key] is { } value && Move(value.Trim()) is { } movedValue)
                        data[key] = movedValue;
            }
            result.Add(obj);
        }
        return result;
    }
}
