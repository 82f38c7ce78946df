using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>JSON plumbing shared by the fake's store, patches and controllers.</summary>
internal static class KubeJson
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>JSON as the real server writes it: quotes escaped as \", not \u0022.</summary>
    public static string Serialize(JsonNode node) => node.ToJsonString(Relaxed);

    public static string Time(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTime(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s)
            && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : null;

    public static JsonObject Obj(this JsonNode? node, string key)
    {
        if (node is not JsonObject o)
        {
            throw new InvalidOperationException($"not an object while reading '{key}'");
        }

        if (o[key] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        o[key] = created;
        return created;
    }

    public static JsonArray Arr(this JsonObject o, string key)
    {
        if (o[key] is JsonArray existing)
        {
            return existing;
        }

        var created = new JsonArray();
        o[key] = created;
        return created;
    }

    public static string? Str(this JsonNode? node, params string[] path)
    {
        var n = Walk(node, path);
        return n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }

    public static long? Long(this JsonNode? node, params string[] path)
    {
        var n = Walk(node, path);
        if (n is not JsonValue v)
        {
            return null;
        }

        if (v.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (v.TryGetValue<int>(out var i))
        {
            return i;
        }

        if (v.TryGetValue<double>(out var d))
        {
            return (long)d;
        }

        return v.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.Number ? e.GetInt64() : null;
    }

    public static bool? Bool(this JsonNode? node, params string[] path) =>
        Walk(node, path) is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    public static JsonNode? Walk(JsonNode? node, params string[] path)
    {
        foreach (var p in path)
        {
            if (node is not JsonObject o)
            {
                return null;
            }

            node = o[p];
        }

        return node;
    }

    public static JsonObject Clone(this JsonObject o) => o.DeepClone().AsObject();

    public static bool Same(JsonNode? a, JsonNode? b) => JsonNode.DeepEquals(a, b);

    public static JsonObject Status(int code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        if (details is not null)
        {
            status["details"] = details;
        }

        return status;
    }

    /// <summary>An apply body is YAML or JSON (JSON is YAML, but parsing it as JSON keeps number types exact).</summary>
    public static JsonNode? ParseYamlOrJson(string text)
    {
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{'))
        {
            return JsonNode.Parse(text);
        }

        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count == 0 ? null : FromYaml(stream.Documents[0].RootNode);
    }

    private static JsonNode? FromYaml(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                var o = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    o[((YamlScalarNode)k).Value ?? ""] = FromYaml(v);
                }

                return o;
            case YamlSequenceNode seq:
                var a = new JsonArray();
                foreach (var item in seq.Children)
                {
                    a.Add(FromYaml(item));
                }

                return a;
            case YamlScalarNode scalar:
                var s = scalar.Value ?? "";
                if (scalar.Style is YamlDotNet.Core.ScalarStyle.Plain)
                {
                    if (s is "" or "~" or "null" or "Null" or "NULL")
                    {
                        return null;
                    }

                    if (s is "true" or "True" or "TRUE")
                    {
                        return JsonValue.Create(true);
                    }

                    if (s is "false" or "False" or "FALSE")
                    {
                        return JsonValue.Create(false);
                    }

                    if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                    {
                        return JsonValue.Create(l);
                    }

                    if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                    {
                        return JsonValue.Create(d);
                    }
                }

                return JsonValue.Create(s);
            default:
                return null;
        }
    }
}
