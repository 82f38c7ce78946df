using System.Text.Json.Nodes;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>
/// JSON merge patch (RFC 7386) and strategic merge patch with the merge keys of the built-in types:
/// lists of containers, init containers, env, volumes, image pull secrets merge by name, volume mounts by
/// mountPath, container ports by containerPort and service ports by port (as the real server), conditions by type.
/// </summary>
internal static class MergePatches
{
    public static string? MergeKey(string field, JsonArray? items, JsonArray? other = null)
    {
        switch (field)
        {
            case "containers" or "initContainers" or "ephemeralContainers" or "env" or "volumes"
                or "imagePullSecrets":
                return "name";
            case "volumeMounts":
                return "mountPath";
            case "volumeDevices":
                return "devicePath";
            case "conditions":
                return "type";
            case "ownerReferences":
                return "uid";
            case "hostAliases":
                return "ip";
            case "ports":
                var sample = (items ?? []).Concat(other ?? []).OfType<JsonObject>().FirstOrDefault();
                return sample is null ? null : sample.ContainsKey("containerPort") ? "containerPort" : sample.ContainsKey("port") ? "port" : null;
            default:
                return null;
        }
    }

    public static JsonNode? JsonMerge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject t ? t.Clone() : new JsonObject();
        foreach (var (k, v) in p)
        {
            if (v is null)
            {
                result.Remove(k);
            }
            else
            {
                result[k] = JsonMerge(result[k], v);
            }
        }

        return result;
    }

    public static JsonNode? Strategic(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        if (p.Str("$patch") == "replace")
        {
            var replaced = p.Clone();
            replaced.Remove("$patch");
            return replaced;
        }

        var result = target is JsonObject t ? t.Clone() : new JsonObject();
        foreach (var (k, v) in p)
        {
            if (k.StartsWith('$'))
            {
                continue;
            }

            if (v is null)
            {
                result.Remove(k);
            }
            else if (v is JsonArray patchList && result[k] is JsonArray liveList
                && MergeKey(k, patchList, liveList) is { } key)
            {
                result[k] = MergeList(liveList, patchList, key);
            }
            else if (v is JsonArray plain)
            {
                result[k] = StripDirectives(plain);
            }
            else if (v is JsonObject child && child.Str("$patch") == "delete")
            {
                result.Remove(k);
            }
            else
            {
                result[k] = Strategic(result[k], v);
            }
        }

        return result;
    }

    private static JsonArray MergeList(JsonArray live, JsonArray patch, string key)
    {
        if (patch.OfType<JsonObject>().Any(i => i.Str("$patch") == "replace" && i.Count == 1))
        {
            return StripDirectives(new JsonArray(patch.Where(i => !(i is JsonObject o && o.Count == 1 && o.Str("$patch") == "replace")).Select(i => i?.DeepClone()).ToArray()));
        }

        var result = live.DeepClone().AsArray();
        foreach (var item in patch.OfType<JsonObject>())
        {
            var index = IndexOf(result, key, item[key]);
            if (item.Str("$patch") == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }
            }
            else if (index >= 0)
            {
                result[index] = Strategic(result[index], item);
            }
            else
            {
                result.Add(Strategic(null, item));
            }
        }

        return result;
    }

    internal static int IndexOf(JsonArray list, string key, JsonNode? value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is JsonObject o && KubeJson.Same(o[key], value))
            {
                return i;
            }
        }

        return -1;
    }

    private static JsonArray StripDirectives(JsonArray list) =>
        new(list.Select(i => i is JsonObject o ? Strategic(null, o) : i?.DeepClone()).ToArray());
}
