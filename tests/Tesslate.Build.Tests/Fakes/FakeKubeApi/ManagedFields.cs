using System.Text.Json.Nodes;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>
/// Field ownership as the real server records it in metadata.managedFields (FieldsV1): a set of paths such as
/// f:spec / f:template / f:spec / f:containers / k:{"name":"app"} / f:image. A path is stored as its elements joined by '\n'.
/// </summary>
internal static class ManagedFields
{
    private static readonly HashSet<string> UntrackedMetadata =
        ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "generateName", "deletionTimestamp", "selfLink"];

    public sealed record Entry(string Manager, string Operation, string ApiVersion, string Time, string? Subresource, HashSet<string> Fields);

    /// <summary>The leaf paths an object (or an apply configuration) sets.</summary>
    public static HashSet<string> FieldsOf(JsonObject obj, bool hasStatus)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (k, v) in obj)
        {
            if (k is "apiVersion" or "kind" || (k == "status" && hasStatus))
            {
                continue;
            }

            if (k == "metadata" && v is JsonObject meta)
            {
                foreach (var (mk, mv) in meta)
                {
                    if (!UntrackedMetadata.Contains(mk))
                    {
                        Collect(mv, mk, ["f:metadata", "f:" + mk], set);
                    }
                }

                continue;
            }

            Collect(v, k, ["f:" + k], set);
        }

        return set;
    }

    private static void Collect(JsonNode? node, string field, List<string> path, HashSet<string> set)
    {
        switch (node)
        {
            case JsonObject o when o.Count > 0:
                foreach (var (k, v) in o)
                {
                    Collect(v, k, [.. path, "f:" + k], set);
                }

                break;
            case JsonArray a when MergePatches.MergeKey(field, a) is { } key:
                foreach (var item in a.OfType<JsonObject>())
                {
                    var itemPath = new List<string>(path) { ItemKey(key, item[key]) };
                    set.Add(Join([.. itemPath, "."]));
                    Collect(item, "", itemPath, set);
                }

                break;
            default:
                set.Add(Join(path));
                break;
        }
    }

    private static string ItemKey(string key, JsonNode? value) =>
        "k:" + new JsonObject { [key] = value?.DeepClone() }.ToJsonString();

    private static string Join(IEnumerable<string> path) => string.Join('\n', path);

    /// <summary>Finds the value at a path; found is false when the field (or list item) is absent.</summary>
    public static (bool Found, JsonNode? Value) ValueAt(JsonNode? root, string path)
    {
        var node = root;
        foreach (var element in path.Split('\n'))
        {
            if (element == ".")
            {
                return (node is not null, node);
            }

            if (element.StartsWith("f:", StringComparison.Ordinal))
            {
                if (node is not JsonObject o || !o.TryGetPropertyValue(element[2..], out var child))
                {
                    return (false, null);
                }

                node = child;
            }
            else if (element.StartsWith("k:", StringComparison.Ordinal))
            {
                var (key, value) = ParseItemKey(element);
                if (node is not JsonArray list || MergePatches.IndexOf(list, key, value) is var i && i < 0)
                {
                    return (false, null);
                }

                node = list[i];
            }
        }

        return (true, node);
    }

    private static (string Key, JsonNode? Value) ParseItemKey(string element)
    {
        var o = JsonNode.Parse(element[2..])!.AsObject();
        var (key, value) = o.First();
        return (key, value?.DeepClone());
    }

    /// <summary>Removes the field or list item a path names; used when an applier stops setting a field it alone owned.</summary>
    public static void Remove(JsonNode? root, string path)
    {
        var elements = path.Split('\n');
        if (elements[^1] == ".")
        {
            elements = elements[..^1];
        }

        var parentPath = string.Join('\n', elements[..^1]);
        var (found, parent) = elements.Length == 1 ? (true, root) : ValueAt(root, parentPath);
        if (!found)
        {
            return;
        }

        var last = elements[^1];
        if (last.StartsWith("f:", StringComparison.Ordinal) && parent is JsonObject o)
        {
            o.Remove(last[2..]);
        }
        else if (last.StartsWith("k:", StringComparison.Ordinal) && parent is JsonArray list)
        {
            var (key, value) = ParseItemKey(last);
            var i = MergePatches.IndexOf(list, key, value);
            if (i >= 0)
            {
                list.RemoveAt(i);
            }
        }
    }

    public static List<Entry> Read(JsonObject obj)
    {
        var result = new List<Entry>();
        if (obj["metadata"]?["managedFields"] is not JsonArray array)
        {
            return result;
        }

        foreach (var e in array.OfType<JsonObject>())
        {
            var fields = new HashSet<string>(StringComparer.Ordinal);
            if (e["fieldsV1"] is JsonObject tree)
            {
                Flatten(tree, [], fields);
            }

            result.Add(new Entry(e.Str("manager") ?? "", e.Str("operation") ?? "Update", e.Str("apiVersion") ?? "",
                e.Str("time") ?? "", e.Str("subresource"), fields));
        }

        return result;
    }

    private static void Flatten(JsonObject tree, List<string> path, HashSet<string> set)
    {
        foreach (var (k, v) in tree)
        {
            var child = new List<string>(path) { k };
            if (v is JsonObject o && o.Count > 0)
            {
                Flatten(o, child, set);
            }
            else
            {
                set.Add(Join(child));
            }
        }
    }

    public static void Write(JsonObject obj, List<Entry> entries)
    {
        var array = new JsonArray();
        foreach (var e in entries.Where(e => e.Fields.Count > 0))
        {
            var tree = new JsonObject();
            foreach (var path in e.Fields.Order(StringComparer.Ordinal))
            {
                var node = tree;
                foreach (var element in path.Split('\n'))
                {
                    node = node.Obj(element);
                }
            }

            var entry = new JsonObject
            {
                ["manager"] = e.Manager,
                ["operation"] = e.Operation,
                ["apiVersion"] = e.ApiVersion,
                ["time"] = e.Time,
                ["fieldsType"] = "FieldsV1",
                ["fieldsV1"] = tree,
            };
            if (e.Subresource is not null)
            {
                entry["subresource"] = e.Subresource;
            }

            array.Add(entry);
        }

        var meta = obj.Obj("metadata");
        if (array.Count == 0)
        {
            meta.Remove("managedFields");
        }
        else
        {
            meta["managedFields"] = array;
        }
    }
}
