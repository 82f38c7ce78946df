using System.Globalization;
using System.Text.Json.Nodes;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>RFC 6902 JSON patch: add, remove, replace and test, enough for the patches clients send.</summary>
internal static class JsonPatch
{
    public static JsonNode Apply(JsonObject target, JsonNode? patch)
    {
        var doc = target.Clone();
        if (patch is not JsonArray ops)
        {
            throw new KubeApiException(400, "BadRequest", "a JSON patch must be an array of operations");
        }

        foreach (var op in ops.OfType<JsonObject>())
        {
            var path = (op.Str("path") ?? "").Split('/').Skip(1).Select(p => p.Replace("~1", "/").Replace("~0", "~")).ToArray();
            if (path.Length == 0)
            {
                throw new KubeApiException(400, "BadRequest", "JSON patch path must not be empty");
            }

            var parent = KubeJson.Walk(doc, []);
            foreach (var segment in path[..^1])
            {
                parent = parent switch
                {
                    JsonObject o => o[segment],
                    JsonArray a when int.TryParse(segment, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                    _ => null,
                };
            }

            var last = path[^1];
            var value = op["value"]?.DeepClone();
            switch (op.Str("op"), parent)
            {
                case ("add" or "replace", JsonObject o):
                    o[last] = value;
                    break;
                case ("add", JsonArray a):
                    if (last == "-")
                    {
                        a.Add(value);
                    }
                    else
                    {
                        a.Insert(int.Parse(last, CultureInfo.InvariantCulture), value);
                    }

                    break;
                case ("replace", JsonArray a):
                    a[int.Parse(last, CultureInfo.InvariantCulture)] = value;
                    break;
                case ("remove", JsonObject o) when o.ContainsKey(last):
                    o.Remove(last);
                    break;
                case ("remove", JsonArray a):
                    a.RemoveAt(int.Parse(last, CultureInfo.InvariantCulture));
                    break;
                case ("test", JsonObject o) when KubeJson.Same(o[last], value):
                    break;
                default:
                    throw new KubeApiException(422, "Invalid", $"the server rejected our request due to an error in our request: op {op.Str("op")} on {op.Str("path")}");
            }
        }

        return doc;
    }
}
