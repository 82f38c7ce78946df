using System.Collections.Immutable;
using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Tesslate.Build.Engine;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.Images;

/// <summary>The image catalog: every <c>*.yaml</c> file of a directory, one image each, validated field by field.</summary>
public sealed class ImageCatalog
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        WriteIndented = true,
    };

    public ImageCatalog(IEnumerable<ImageDefinition> images, string? directory = null)
    {
        Images = [.. images.OrderBy(i => i.Name, StringComparer.Ordinal)];
        Directory = directory;
    }

    public ImmutableArray<ImageDefinition> Images { get; }

    /// <summary>Where the catalog files are; ignore files resolve against it.</summary>
    public string? Directory { get; }

    public IEnumerable<string> Names => Images.Select(i => i.Name);

    public ImageDefinition this[string name] => Images.First(i => i.Name == name);

    public static ImageCatalog Load(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new UsageException($"The image catalog directory '{directory}' does not exist.", "Run from the repository root, or restore the images/ directory.");
        var files = System.IO.Directory.GetFiles(directory, "*.yaml").Concat(System.IO.Directory.GetFiles(directory, "*.yml")).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new UsageException($"The image catalog '{directory}' has no *.yaml files.", "Add one file per image (see docs/images.md).");
        return new ImageCatalog(files.Select(LoadFile), directory);
    }

    public static ImageDefinition LoadFile(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Reads one catalog file; every error names the file, the field and its line.</summary>
    public static ImageDefinition Parse(string yaml, string path)
    {
        var display = DisplayPath(path);
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            root = stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode mapping
                ? mapping
                : throw new UsageException($"{display}: expected a mapping of fields (repository, dockerfile, context, ...).", "See images/catalog.schema.json for the fields.");
        }
        catch (YamlException e)
        {
            throw new UsageException($"{display}:{e.Start.Line}: invalid YAML: {e.Message}", "Fix the YAML syntax at that line.");
        }

        var typeInfo = JsonOptions.GetTypeInfo(typeof(ImageDefinition));
        Validate(root, typeInfo, display, "");
        var json = ToJson(root);
        ImageDefinition definition;
        try
        {
            definition = json.Deserialize<ImageDefinition>(JsonOptions)
                ?? throw new UsageException($"{display}: the file is empty.", "See images/catalog.schema.json for the fields.");
        }
        catch (JsonException e)
        {
            var field = e.Path?.TrimStart('$', '.') ?? "";
            throw new UsageException($"{display}: field '{field}' has the wrong type: {e.Message.Split(" Path:")[0]}", "See images/catalog.schema.json for each field's type.");
        }

        var name = Path.GetFileNameWithoutExtension(path);
        foreach (var (field, value) in new[] { ("repository", definition.Repository), ("dockerfile", definition.Dockerfile), ("context", definition.Context) })
        {
            if (string.IsNullOrWhiteSpace(value))
                throw new UsageException($"{display}: field '{field}' is empty.", $"Give '{field}' a value.");
        }
        if (Path.IsPathRooted(definition.Dockerfile) || Path.IsPathRooted(definition.Context))
            throw new UsageException($"{display}: fields 'dockerfile' and 'context' must be relative to the source root.", "Write them as paths inside the application checkout, e.g. orchestrator/Dockerfile.");
        return definition with { Name = name, SourceFile = path };
    }

    /// <summary>Every field known (line-accurate "unknown field" errors), every required field present, recursively.</summary>
    private static void Validate(YamlMappingNode node, JsonTypeInfo typeInfo, string file, string prefix)
    {
        var properties = typeInfo.Properties.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in node.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            if (!properties.TryGetValue(key, out var property))
            {
                throw new UsageException($"{file}:{keyNode.Start.Line}: unknown field '{prefix}{key}'.",
                    $"Valid fields{(prefix.Length > 0 ? $" of '{prefix.TrimEnd('.')}'" : "")}: {string.Join(", ", properties.Keys.Order())}.");
            }
            var propertyType = JsonOptions.GetTypeInfo(property.PropertyType);
            if (propertyType.Kind == JsonTypeInfoKind.Object)
            {
                if (valueNode is not YamlMappingNode mapping)
                    throw new UsageException($"{file}:{valueNode.Start.Line}: field '{prefix}{key}' must be a mapping.", "See images/catalog.schema.json.");
                Validate(mapping, propertyType, file, $"{prefix}{key}.");
            }
        }
        var present = node.Children.Keys.Select(k => ((YamlScalarNode)k).Value).ToHashSet(StringComparer.Ordinal);
        foreach (var required in typeInfo.Properties.Where(p => p.IsRequired && !present.Contains(p.Name)))
            throw new UsageException($"{file}: field '{prefix}{required.Name}' is missing.", $"Add '{required.Name}:' ({Describe(required)}).");
    }

    private static string Describe(JsonPropertyInfo property) =>
        (property.AttributeProvider as MemberInfo)?.GetCustomAttribute<DescriptionAttribute>()?.Description ?? property.PropertyType.Name;

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", ToJson(c.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
            return JsonValue.Create(value);
        return value switch
        {
            "true" or "True" => JsonValue.Create(true),
            "false" or "False" => JsonValue.Create(false),
            "null" or "~" or "" => null,
            _ when long.TryParse(value, out var number) => JsonValue.Create(number),
            _ => JsonValue.Create(value),
        };
    }

    private static string DisplayPath(string path)
    {
        var relative = Path.GetRelativePath(System.Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }

    /// <summary>
    /// Chooses images from <c>--images</c> values: each value may hold several names separated by commas or spaces;
    /// none means the default set; duplicates collapse (first occurrence keeps its place); unknown names fail listing the valid ones.
    /// </summary>
    public IReadOnlyList<ImageDefinition> Select(IEnumerable<string>? requested)
    {
        var names = (requested ?? []).SelectMany(v => v.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (names.Count == 0)
            return [.. Images.Where(i => i.DefaultSet)];
        var unknown = names.Where(n => !Images.Any(i => i.Name == n)).Distinct().ToList();
        if (unknown.Count > 0)
        {
            throw new UsageException($"Unknown image{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown)}.",
                $"Valid images: {string.Join(", ", Names)} (default: {string.Join(", ", Images.Where(i => i.DefaultSet).Select(i => i.Name))}).");
        }
        return [.. names.Distinct(StringComparer.Ordinal).Select(n => this[n])];
    }

    /// <summary>The JSON schema of a catalog file, generated from <see cref="ImageDefinition"/> (committed as images/catalog.schema.json).</summary>
    public static string GenerateSchema()
    {
        var exporterOptions = new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (context, schema) =>
            {
                var description = (context.PropertyInfo?.AttributeProvider as MemberInfo)?.GetCustomAttribute<DescriptionAttribute>()?.Description;
                if (description is not null && schema is JsonObject withDescription)
                    withDescription.Insert(0, "description", description);
                return schema;
            },
        };
        var schema = JsonOptions.GetJsonSchemaAsNode(typeof(ImageDefinition), exporterOptions).AsObject();
        schema.Insert(0, "$schema", "https://json-schema.org/draft/2020-12/schema");
        schema.Insert(1, "title", "Tesslate image catalog entry (images/<name>.yaml)");
        return schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).ReplaceLineEndings("\n") + "\n";
    }
}
