using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.Kubernetes;

/// <summary>
/// Multi-document YAML (what <c>kubectl kustomize</c> prints) to generic objects. Plain scalars are typed the way
/// Kubernetes' YAML decoder types them (null, booleans, numbers); quoted and block scalars stay strings.
/// </summary>
public static class ManifestYaml
{
    public static IReadOnlyList<KubeObject> Parse(string yaml, string source = "manifest")
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new FormatException($"{source}: invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
        }

        var objects = new List<KubeObject>();
        foreach (var document in stream.Documents)
        {
            if (document.RootNode is YamlScalarNode { Value: null or "" or "~" or "null" })
                continue;
            if (ToJson(document.RootNode) is not JsonObject body)
                throw new FormatException($"{source}: a document at line {document.RootNode.Start.Line} is not a mapping.");
            if (body["kind"] is JsonValue kindValue && (string?)kindValue is { } kind && kind.EndsWith("List", StringComparison.Ordinal) && body["items"] is JsonArray items)
            {
                foreach (var item in items.OfType<JsonObject>())
                    objects.Add(new KubeObject((JsonObject)item.DeepClone()));
                continue;
            }
            objects.Add(new KubeObject(body));
        }
        return objects;
    }

    /// <summary>YAML for people (dry-run output); JSON is valid YAML, so the API gets JSON.</summary>
    public static string ToYaml(IEnumerable<KubeObject> objects)
    {
        var serializer = new YamlDotNet.Serialization.SerializerBuilder().Build();
        return string.Join("---\n", objects.Select(o => serializer.Serialize(ToPlain(o.Body))));
    }

    private static object? ToPlain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => ToPlain(p.Value)),
        JsonArray a => a.Select(ToPlain).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
            System.Text.Json.JsonValueKind.True => true,
            System.Text.Json.JsonValueKind.False => false,
            System.Text.Json.JsonValueKind.Number => v.ToJsonString(),
            _ => null,
        },
        _ => null,
    };

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p =>
            KeyValuePair.Create(((YamlScalarNode)p.Key).Value ?? "", ToJson(p.Value)))),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(ToJson)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new FormatException($"Unsupported YAML node at line {node.Start.Line}."),
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain)
            return JsonValue.Create(text);
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            return JsonValue.Create(integer);
        if (text.Any(char.IsDigit) && !text.StartsWith('.') && text.All(c => char.IsDigit(c) || c is '.' or 'e' or 'E' or '-' or '+')
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
            return JsonValue.Create(real);
        return JsonValue.Create(text);
    }
}
