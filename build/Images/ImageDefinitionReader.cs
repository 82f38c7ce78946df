using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Tesslate.Build.Engine;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.Images;

/// <summary>
/// Reads one catalog file's YAML into an <see cref="ImageDefinition"/> field by field. Written by hand because every
/// --plan reads the catalog: System.Text.Json's reflection contract cost 60–110 ms of that start, and a source-generated
/// one assigns every absent init-only property its default, losing the record's initialisers (tags.environment: true).
/// The fields are the generated schema's (a test compares them); values keep JSON's types: a plain 8080, true or null
/// is not text.
/// </summary>
internal static class ImageDefinitionReader
{
    internal enum Kind
    {
        Text,
        OptionalText,
        Flag,
        TextMap,
        TextList,
        Mapping,
    }

    internal sealed record Field(string Name, Kind Kind, bool Required = false);

    internal static readonly Field[] DefinitionFields =
    [
        new("repository", Kind.Text, Required: true),
        new("dockerfile", Kind.Text, Required: true),
        new("context", Kind.Text, Required: true),
        new("platform", Kind.Text),
        new("buildArgs", Kind.TextMap),
        new("ignoreFile", Kind.OptionalText),
        new("tags", Kind.Mapping),
        new("defaultSet", Kind.Flag),
        new("runtimeReferenced", Kind.Flag),
        new("description", Kind.OptionalText),
    ];

    internal static readonly Field[] TagFields =
    [
        new("environment", Kind.Flag),
        new("latestOn", Kind.TextList),
    ];

    /// <summary>Every field known (line-accurate "unknown field" errors) and every required one present, then each value of its type.</summary>
    public static ImageDefinition Read(YamlMappingNode root, string file)
    {
        Validate(root, DefinitionFields, typeof(ImageDefinition), file, "");
        var values = Values(root);
        var definition = new ImageDefinition
        {
            Repository = Text(values["repository"], file, "repository")!,
            Dockerfile = Text(values["dockerfile"], file, "dockerfile")!,
            Context = Text(values["context"], file, "context")!,
        };
        if (values.TryGetValue("platform", out var platform))
            definition = definition with { Platform = Text(platform, file, "platform")! };
        if (values.TryGetValue("buildArgs", out var buildArgs))
            definition = definition with { BuildArgs = TextMap(buildArgs, file, "buildArgs") };
        if (values.TryGetValue("ignoreFile", out var ignoreFile))
            definition = definition with { IgnoreFile = Text(ignoreFile, file, "ignoreFile", nullable: true) };
        if (values.TryGetValue("tags", out var tags))
            definition = definition with { Tags = ReadTags((YamlMappingNode)tags, file) };
        if (values.TryGetValue("defaultSet", out var defaultSet))
            definition = definition with { DefaultSet = Flag(defaultSet, file, "defaultSet") };
        if (values.TryGetValue("runtimeReferenced", out var runtimeReferenced))
            definition = definition with { RuntimeReferenced = Flag(runtimeReferenced, file, "runtimeReferenced") };
        if (values.TryGetValue("description", out var description))
            definition = definition with { Description = Text(description, file, "description", nullable: true) };
        return definition;
    }

    private static ImageTagRules ReadTags(YamlMappingNode node, string file)
    {
        var values = Values(node);
        var tags = new ImageTagRules();
        if (values.TryGetValue("environment", out var environment))
            tags = tags with { Environment = Flag(environment, file, "tags.environment") };
        if (values.TryGetValue("latestOn", out var latestOn))
            tags = tags with { LatestOn = TextList(latestOn, file, "tags.latestOn") };
        return tags;
    }

    private static Dictionary<string, YamlNode> Values(YamlMappingNode node)
    {
        var values = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (key, value) in node.Children)
            values[Key(key)] = value;
        return values;
    }

    private static string Key(YamlNode key) => ((YamlScalarNode)key).Value ?? "";

    private static void Validate(YamlMappingNode node, Field[] fields, Type type, string file, string prefix)
    {
        foreach (var (keyNode, valueNode) in node.Children)
        {
            var key = Key(keyNode);
            var field = Array.Find(fields, f => f.Name == key)
                ?? throw new UsageException($"{file}:{keyNode.Start.Line}: unknown field '{prefix}{key}'.",
                    $"Valid fields{(prefix.Length > 0 ? $" of '{prefix.TrimEnd('.')}'" : "")}: {string.Join(", ", fields.Select(f => f.Name).Order())}.");
            if (field.Kind == Kind.Mapping)
            {
                if (valueNode is not YamlMappingNode mapping)
                    throw new UsageException($"{file}:{valueNode.Start.Line}: field '{prefix}{key}' must be a mapping.", "See images/catalog.schema.json.");
                Validate(mapping, TagFields, typeof(ImageTagRules), file, $"{prefix}{key}.");
            }
        }
        foreach (var required in fields.Where(f => f.Required && !node.Children.Keys.Any(k => Key(k) == f.Name)))
            throw new UsageException($"{file}: field '{prefix}{required.Name}' is missing.", $"Add '{required.Name}:' ({Describe(type, required.Name)}).");
    }

    // Only on the error path: the property's [Description], as the schema shows it.
    private static string Describe(Type type, string field)
    {
        var property = type.GetProperty(char.ToUpperInvariant(field[0]) + field[1..]);
        return property?.GetCustomAttribute<DescriptionAttribute>()?.Description ?? property?.PropertyType.Name ?? field;
    }

    private enum Value
    {
        Text,
        Number,
        Boolean,
        Null,
        Sequence,
        Mapping,
    }

    // What JSON value a YAML node stands for: a quoted or block scalar is always text; plain true/false, null/~/empty and
    // whole numbers are not.
    private static Value ValueOf(YamlNode node) => node switch
    {
        YamlMappingNode => Value.Mapping,
        YamlSequenceNode => Value.Sequence,
        YamlScalarNode { Style: ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded } => Value.Text,
        YamlScalarNode scalar => (scalar.Value ?? "") switch
        {
            "true" or "True" or "false" or "False" => Value.Boolean,
            "null" or "~" or "" => Value.Null,
            var text when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) => Value.Number,
            _ => Value.Text,
        },
        _ => Value.Null,
    };

    private static string? Text(YamlNode node, string file, string field, bool nullable = false) => ValueOf(node) switch
    {
        Value.Text => ((YamlScalarNode)node).Value ?? "",
        Value.Null when nullable => null,
        var other => throw WrongType(file, field, "text", other),
    };

    private static bool Flag(YamlNode node, string file, string field) => ValueOf(node) switch
    {
        Value.Boolean => ((YamlScalarNode)node).Value is "true" or "True",
        var other => throw WrongType(file, field, "true or false", other),
    };

    private static Dictionary<string, string> TextMap(YamlNode node, string file, string field)
    {
        if (node is not YamlMappingNode mapping)
            throw WrongType(file, field, "a mapping of names to text", ValueOf(node));
        var map = new Dictionary<string, string>();
        foreach (var (key, value) in mapping.Children)
            map[Key(key)] = Text(value, file, $"{field}.{Key(key)}")!;
        return map;
    }

    private static List<string> TextList(YamlNode node, string file, string field)
    {
        if (node is not YamlSequenceNode sequence)
            throw WrongType(file, field, "a list of text", ValueOf(node));
        return [.. sequence.Children.Select((item, i) => Text(item, file, $"{field}[{i}]")!)];
    }

    private static UsageException WrongType(string file, string field, string expected, Value got) =>
        new($"{file}: field '{field}' has the wrong type: expected {expected}, got {Describe(got)}.", "See images/catalog.schema.json for each field's type.");

    private static string Describe(Value value) => value switch
    {
        Value.Text => "text",
        Value.Number => "a number",
        Value.Boolean => "true or false",
        Value.Null => "nothing (null)",
        Value.Sequence => "a list",
        _ => "a mapping",
    };
}
