using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.LiveContract;

/// <summary>
/// The LiteLLM proxy configuration (model list, router and proxy settings) is data the live platform runs: Terraform puts
/// it into ConfigMap litellm-config. The project keeps the same data, written by this tool (comments left out, YAML laid
/// out by YamlDotNet), and a test checks that its meaning equals the live file's: the same mappings, sequences and
/// scalars, each scalar with its quoting (a plain 20 is a number to LiteLLM, a quoted "20" a string).
/// </summary>
public static class LiteLlmConfig
{
    public const string ProjectPath = "k8s/litellm/config.yaml";
    public const string StudioPath = "k8s/litellm/config.yaml";
    public const string FixtureFile = "litellm-config.json";

    /// <summary>A hash of the document's meaning: key order, layout and comments do not count; values and their quoting do.</summary>
    public static string MeaningSha256(string yaml)
    {
        var canonical = Canonical(Parse(yaml).RootNode).ToJsonString();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>The same data, written anew: a header naming where it came from, then the document without comments.</summary>
    public static string Rewrite(string yaml, string source)
    {
        var document = Parse(yaml);
        using var writer = new StringWriter();
        writer.WriteLine("# LiteLLM proxy configuration: the models and settings the live LiteLLM runs (Terraform renders it into");
        writer.WriteLine("# ConfigMap litellm-config). Derived from " + source + " by tests/tools/live-contract (litellm);");
        writer.WriteLine("# LiveContractTests checks that its meaning equals the live file's. Edit it here to change the models.");
        new YamlStream(document).Save(writer, assignAnchors: false);
        return writer.ToString().Replace("\n...\n", "\n", StringComparison.Ordinal).TrimEnd('.', '\n') + "\n";
    }

    public static string FixtureJson(string commit, string date, string liveYaml) =>
        new JsonObject
        {
            ["source"] = new JsonObject { ["repository"] = LiveContractLayout.StudioRepository, ["commit"] = commit, ["date"] = date, ["path"] = StudioPath },
            ["meaningSha256"] = MeaningSha256(liveYaml),
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    private static YamlDocument Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Count == 1
            ? stream.Documents[0]
            : throw new ContractToolException($"a LiteLLM config holds one YAML document, this one {stream.Documents.Count}", "Keep one document in the file.");
    }

    private static JsonNode Canonical(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children
            .Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value ?? "", (JsonNode?)Canonical(p.Value)))
            .OrderBy(p => p.Key, StringComparer.Ordinal)),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(c => (JsonNode?)Canonical(c))]),
        YamlScalarNode scalar => JsonValue.Create((scalar.Style is ScalarStyle.Plain or ScalarStyle.Any ? "plain:" : "quoted:") + scalar.Value),
        _ => throw new ContractToolException($"unexpected YAML node {node.NodeType}", "The LiteLLM config uses mappings, sequences and scalars only."),
    };
}
