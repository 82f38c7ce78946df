using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.LiveContract;

/// <summary>Where the fixture lives and what it covers; shared by the tool and the test.</summary>
public static class LiveContractLayout
{
    public const string StudioRepository = "TesslateAI/Studio";
    public const string FixtureDirectory = "tests/fixtures/live-contract";
    public const string TerraformObjectsFile = "terraform-objects.json";
    public const string DocumentedFile = "k8s/deliberate-differences.yaml";
    public const string OwnershipFile = "k8s/ownership.yaml";

    /// <summary>The overlays the live platform is applied from, relative to k8s/overlays (the same paths here).</summary>
    public static readonly IReadOnlyList<string> Overlays = ["aws-beta", "aws-production", "aws-beta/compute", "aws-production/compute"];

    /// <summary>What the compute overlays read besides k8s/: the btrfs CSI driver's manifests.</summary>
    public static readonly IReadOnlyList<string> StudioPaths = ["k8s", "services/btrfs-csi/deploy"];

    public static string FixtureFile(string overlay) => overlay.Replace('/', '-') + ".json";

    public static string TerraformObjectsJson(string commit, string date, IReadOnlyList<ObjectKey> objects)
    {
        var root = new JsonObject
        {
            ["source"] = new JsonObject { ["repository"] = StudioRepository, ["commit"] = commit, ["date"] = date, ["stack"] = "k8s/terraform/aws" },
            ["objects"] = new JsonArray([.. objects.Select(o => (JsonNode)JsonValue.Create(o.ToString()))]),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    public static LiveContractFacts Load(string root)
    {
        var directory = Path.Combine(root, FixtureDirectory);
        var live = Overlays.ToDictionary(o => o, o => OverlayFacts.FromJson(File.ReadAllText(Path.Combine(directory, FixtureFile(o)))), StringComparer.Ordinal);
        var terraform = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, TerraformObjectsFile)))!["objects"]!.AsArray()
            .Select(n => n!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        var documented = ContractComparison.LoadDocumented(File.ReadAllText(Path.Combine(root, DocumentedFile)));
        var owned = Ownership.Load(File.ReadAllText(Path.Combine(root, OwnershipFile)));
        return new LiveContractFacts(live, terraform, owned.Where(o => o.Owner == "terraform").Select(o => o.Key.ToString()).ToHashSet(StringComparer.Ordinal), documented, owned);
    }

    public static string FindRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tesslate.Build.sln")))
                return directory.FullName;
        }

        throw new ContractToolException($"no Tesslate.Build.sln above {start}", "Run the tool inside the Tesslate.Build repository, or pass --root <dir>.");
    }
}

/// <summary>The committed live facts, the live Terraform's objects, k8s/ownership.yaml and the documented differences.</summary>
public sealed record LiveContractFacts(
    IReadOnlyDictionary<string, OverlayFacts> Live,
    IReadOnlySet<string> LiveTerraformObjects,
    IReadOnlySet<string> TerraformOwned,
    IReadOnlyList<DocumentedDifference> Documented,
    IReadOnlyList<OwnedObject> Ownership);

/// <summary>One entry of k8s/ownership.yaml.</summary>
public sealed record OwnedObject(ObjectKey Key, string Owner, string Why, bool LocalCopy);

public static class Ownership
{
    public static IReadOnlyList<OwnedObject> Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var result = new List<OwnedObject>();
        foreach (var entry in ((YamlSequenceNode)root.Children[new YamlScalarNode("objects")]).Children
                     .Cast<YamlMappingNode>())
        {
            string Text(string key) => entry.Children.TryGetValue(new YamlScalarNode(key), out var node)
                ? ((YamlScalarNode)node).Value ?? ""
                : "";
            result.Add(new OwnedObject(new ObjectKey(Text("kind"), Text("namespace"), Text("name")), Text("owner"), Text("why"), Text("localCopy") == "true"));
        }

        return result;
    }
}
