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
    // The schema's contract (GenerateSchema only: reading the catalog does not use System.Text.Json).
    private static JsonSerializerOptions SchemaOptions() => new()
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

    /// <summary>
    /// The image names the catalog directory holds, from its file names alone (an image is named for its file): what a
    /// preview can check without parsing every file. Empty when the directory is missing.
    /// </summary>
    public static IReadOnlySet<string> NamesIn(string directory) =>
        System.IO.Directory.Exists(directory)
            ? System.IO.Directory.GetFiles(directory, "*.yaml").Concat(System.IO.Directory.GetFiles(directory, "*.yml")).Select(Path.GetFileNameWithoutExtension).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);

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

        var definition = ImageDefinitionReader.Read(root, display);

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

    private static string DisplayPath(string path)
    {
        var relative = Path.GetRelativePath(System.Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }

    /// <summary>The names in <c>--images</c> values: each value may hold several, separated by commas or spaces.</summary>
    public static IReadOnlyList<string> RequestedNames(IEnumerable<string>? requested) =>
        [.. (requested ?? []).SelectMany(v => v.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    /// <summary>
    /// Chooses images from <c>--images</c> values: each value may hold several names separated by commas or spaces;
    /// none means the default set; duplicates collapse (first occurrence keeps its place); unknown names fail listing the valid ones.
    /// </summary>
    public IReadOnlyList<ImageDefinition> Select(IEnumerable<string>? requested)
    {
        var names = RequestedNames(requested);
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
        var schema = SchemaOptions().GetJsonSchemaAsNode(typeof(ImageDefinition), exporterOptions).AsObject();
        schema.Insert(0, "$schema", "https://json-schema.org/draft/2020-12/schema");
        schema.Insert(1, "title", "Tesslate image catalog entry (images/<name>.yaml)");
        return schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }).ReplaceLineEndings("\n") + "\n";
    }
}
