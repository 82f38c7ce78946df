using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.Kubernetes;

/// <summary>One problem in a kustomization, with the file that has it.</summary>
public sealed record OverlayFinding(string File, string Problem)
{
    public override string ToString() => $"{File}: {Problem}";
}

/// <summary>
/// Static checks of kustomize directories that kubectl either reports late (missing files, deep in a chain of
/// overlays) or not at all (an image the overlay forgot to pin: kustomize silently keeps the base's bare name).
/// Knows nothing about which images or overlays a project has: callers pass them in.
/// </summary>
public static class OverlayLint
{
    private static readonly string[] KustomizationFileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

    /// <summary>The kustomization file of a directory, or null when it has none.</summary>
    public static string? FindKustomizationFile(string directory) =>
        KustomizationFileNames.Select(name => Path.Combine(directory, name)).FirstOrDefault(File.Exists);

    /// <summary>
    /// Every local path a kustomization names (resources, components, patches, generator files) must exist;
    /// directories are followed recursively. Remote resources (URLs) are not checked.
    /// </summary>
    public static IReadOnlyList<OverlayFinding> CheckReferences(string directory)
    {
        var findings = new List<OverlayFinding>();
        CheckReferences(Path.GetFullPath(directory), findings, new HashSet<string>(StringComparer.Ordinal));
        return findings;
    }

    /// <summary>
    /// The overlay's <c>images:</c> block must name every required image; with <paramref name="expectedTag"/>,
    /// each of those entries must carry that tag (or a digest).
    /// </summary>
    public static IReadOnlyList<OverlayFinding> CheckImages(string directory, IEnumerable<string> requiredImageNames, string? expectedTag = null)
    {
        var file = FindKustomizationFile(directory);
        if (file is null)
            return [new OverlayFinding(directory, "no kustomization.yaml in this directory")];

        var root = Load(file);
        var entries = Sequence(root, "images")
            .OfType<YamlMappingNode>()
            .Select(entry => (Name: Scalar(entry, "name"), Tag: Scalar(entry, "newTag"), Digest: Scalar(entry, "digest")))
            .Where(entry => entry.Name is not null)
            .ToDictionary(entry => entry.Name!, StringComparer.Ordinal);

        var findings = new List<OverlayFinding>();
        foreach (var image in requiredImageNames)
        {
            if (!entries.TryGetValue(image, out var entry))
                findings.Add(new OverlayFinding(file, $"images: has no entry for catalog image '{image}' (kustomize would keep the base's unpinned name)"));
            else if (expectedTag is not null && entry.Digest is null && entry.Tag != expectedTag)
                findings.Add(new OverlayFinding(file, $"images: entry '{image}' has tag '{entry.Tag ?? "(none)"}', expected '{expectedTag}'"));
        }

        return findings;
    }

    private static void CheckReferences(string directory, List<OverlayFinding> findings, HashSet<string> visited)
    {
        if (!visited.Add(directory))
            return;

        var file = FindKustomizationFile(directory);
        if (file is null)
        {
            findings.Add(new OverlayFinding(directory, "no kustomization.yaml in this directory"));
            return;
        }

        YamlMappingNode root;
        try
        {
            root = Load(file);
        }
        catch (YamlDotNet.Core.YamlException exception)
        {
            findings.Add(new OverlayFinding(file, $"is not valid YAML: {exception.Message}"));
            return;
        }

        foreach (var (field, entry) in LocalReferences(root))
        {
            if (IsRemote(entry))
                continue;
            var target = Path.GetFullPath(Path.Combine(directory, entry));
            if (Directory.Exists(target))
                CheckReferences(target, findings, visited);
            else if (!File.Exists(target))
                findings.Add(new OverlayFinding(file, $"{field} entry '{entry}' does not exist ({target})"));
        }
    }

    private static IEnumerable<(string Field, string Entry)> LocalReferences(YamlMappingNode root)
    {
        foreach (var field in new[] { "resources", "components", "patchesStrategicMerge", "crds", "bases" })
        {
            foreach (var item in Sequence(root, field).OfType<YamlScalarNode>())
            {
                // An inline strategic-merge patch is YAML text, not a path.
                if (item.Value is { } value && !value.Contains('\n'))
                    yield return (field, value);
            }
        }

        foreach (var field in new[] { "patches", "patchesJson6902" })
        {
            foreach (var patch in Sequence(root, field).OfType<YamlMappingNode>())
            {
                if (Scalar(patch, "path") is { } path)
                    yield return (field, path);
            }
        }

        foreach (var field in new[] { "configMapGenerator", "secretGenerator" })
        {
            foreach (var generator in Sequence(root, field).OfType<YamlMappingNode>())
            {
                foreach (var item in Sequence(generator, "files").OfType<YamlScalarNode>())
                {
                    // "key=path" names the key; the file is after the '='.
                    var value = item.Value ?? "";
                    yield return ($"{field} files", value.Contains('=') ? value[(value.IndexOf('=') + 1)..] : value);
                }

                foreach (var item in Sequence(generator, "envs").OfType<YamlScalarNode>())
                    yield return ($"{field} envs", item.Value ?? "");
                if (Scalar(generator, "env") is { } env)
                    yield return ($"{field} env", env);
            }
        }
    }

    private static bool IsRemote(string entry) =>
        entry.Contains("://", StringComparison.Ordinal) || entry.StartsWith("github.com/", StringComparison.Ordinal);

    private static YamlMappingNode Load(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(file))
            stream.Load(reader);
        return stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode mapping ? mapping : new YamlMappingNode();
    }

    private static IEnumerable<YamlNode> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence ? sequence.Children : [];

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;
}
