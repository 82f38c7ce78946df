using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tesslate.Build.LiveContract;

/// <summary>Where a set of facts came from: the repository, its commit and date, the overlay, the renderer.</summary>
public sealed record FactSource(string Repository, string Commit, string Date, string Overlay, string RenderedWith);

/// <summary>
/// The contract facts of one rendered overlay: per object (<c>Kind/namespace/name</c>, generated names without their
/// hash suffix, no namespace for cluster-scoped kinds) a flat map from fact name to value (a string or a list of
/// strings). Objects and facts are sorted, so the fixture's diff shows exactly which fact changed.
/// </summary>
public sealed record OverlayFacts(FactSource Source, SortedDictionary<string, SortedDictionary<string, JsonNode?>> Objects)
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        // Facts hold shell and YAML text ('<', '>', '&', quotes): keep them readable in the fixture.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string ToJson()
    {
        var objects = new JsonObject();
        foreach (var (key, facts) in Objects)
        {
            var factsNode = new JsonObject();
            foreach (var (fact, value) in facts)
                factsNode[fact] = value?.DeepClone();
            objects[key] = factsNode;
        }

        var root = new JsonObject
        {
            ["source"] = new JsonObject
            {
                ["repository"] = Source.Repository,
                ["commit"] = Source.Commit,
                ["date"] = Source.Date,
                ["overlay"] = Source.Overlay,
                ["renderedWith"] = Source.RenderedWith,
            },
            ["objects"] = objects,
        };
        return root.ToJsonString(Indented).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    public static OverlayFacts FromJson(string json)
    {
        var root = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException("facts file is not a JSON object");
        var source = root["source"]!.AsObject();
        var objects = new SortedDictionary<string, SortedDictionary<string, JsonNode?>>(StringComparer.Ordinal);
        foreach (var (key, facts) in root["objects"]!.AsObject())
        {
            var map = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal);
            foreach (var (fact, value) in facts!.AsObject())
                map[fact] = value?.DeepClone();
            objects[key] = map;
        }

        return new OverlayFacts(
            new FactSource(Text(source, "repository"), Text(source, "commit"), Text(source, "date"), Text(source, "overlay"), Text(source, "renderedWith")),
            objects);
    }

    private static string Text(JsonObject node, string key) => node[key]?.GetValue<string>() ?? "";
}

/// <summary>The identity of a rendered object, as the contract compares it.</summary>
public sealed record ObjectKey(string Kind, string Namespace, string Name)
{
    public override string ToString() => $"{Kind}/{Namespace}/{Name}";

    public static ObjectKey Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 3)
            throw new FormatException($"'{text}' is not Kind/namespace/name (an empty namespace for cluster-scoped kinds: StorageClass//name)");
        return new ObjectKey(parts[0], parts[1], parts[2]);
    }
}

/// <summary>Canonical text of a fact value: what the comparison compares.</summary>
public static class FactValue
{
    public static string? Canonical(JsonNode? value) => value?.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public static JsonNode Of(string value) => JsonValue.Create(value);

    public static JsonNode Of(IEnumerable<string> values) => new JsonArray([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);
}
