using k8s;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>A rendered object that could not be read strictly: kind/name and why.</summary>
internal sealed record ManifestProblem(string Object, string Problem)
{
    public override string ToString() => $"{Object}: {Problem}";
}

/// <summary>
/// Reads rendered manifests into KubernetesClient's typed models with its strict deserializer (an unknown field
/// is an error, not silently dropped). Custom resources the client has no model for are checked against the
/// few fields their CRD defines here.
/// </summary>
internal static class TypedManifest
{
    /// <summary>Custom resource kinds the overlays may contain, with their allowed top-level fields.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> CustomResourceFields = new Dictionary<string, string[]>
    {
        ["snapshot.storage.k8s.io/v1/VolumeSnapshotClass"] = ["apiVersion", "kind", "metadata", "driver", "deletionPolicy", "parameters"],
    };

    /// <summary>Null: KubernetesClient's default apiVersion/kind map.</summary>
    public static IDictionary<string, Type>? TypeMap => null;

    public static (IReadOnlyList<object> Objects, IReadOnlyList<ManifestProblem> Problems) Load(string yaml)
    {
        var objects = new List<object>();
        var problems = new List<ManifestProblem>();
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));

        foreach (var document in stream.Documents)
        {
            if (document.RootNode is not YamlMappingNode root)
                continue;
            var apiVersion = Scalar(root, "apiVersion") ?? "";
            var kind = Scalar(root, "kind") ?? "";
            var name = root.Children.TryGetValue(new YamlScalarNode("metadata"), out var metadata) && metadata is YamlMappingNode meta
                ? Scalar(meta, "name") ?? "(unnamed)"
                : "(unnamed)";
            var label = $"{kind}/{name}";

            if (CustomResourceFields.TryGetValue($"{apiVersion}/{kind}", out var allowed))
            {
                foreach (var key in root.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value).Where(k => !allowed.Contains(k)))
                    problems.Add(new ManifestProblem(label, $"unknown field '{key}' for custom resource {apiVersion}/{kind}"));
                objects.Add(root);
                continue;
            }

            var text = Serialize(document);
            try
            {
                objects.AddRange(KubernetesYaml.LoadAllFromString(text, TypeMap, strict: true));
            }
            catch (Exception exception) when (exception is YamlException or InvalidOperationException or ArgumentException or KeyNotFoundException)
            {
                problems.Add(new ManifestProblem(label, Describe(exception)));
            }
        }

        return (objects, problems);
    }

    private static string Describe(Exception exception)
    {
        var messages = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
            messages.Add(current.Message);
        return string.Join(" -> ", messages.Distinct());
    }

    private static string Serialize(YamlDocument document)
    {
        var writer = new StringWriter();
        new YamlStream(document).Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;
}
