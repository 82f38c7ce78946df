using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.LiveContract;

/// <summary>
/// One way the project's overlay differs from the live facts: the object, the fact, the live and the new value
/// (canonical JSON text; null where the object or fact is absent on that side).
/// </summary>
public sealed record ContractDifference(string Object, string Fact, string? Live, string? New, string Detail = "")
{
    public override string ToString() =>
        $"{Object}: {Fact}: live {Live ?? "(absent)"}, new {New ?? "(absent)"}{(Detail.Length > 0 ? " — " + Detail : "")}";
}

/// <summary>A difference from the live facts that k8s/deliberate-differences.yaml documents, for the overlays it names.</summary>
public sealed record DocumentedDifference(IReadOnlyList<string> Overlays, string Object, string Fact, string? Live, string? New, string Why, string FirstDeploy)
{
    public bool Matches(ContractDifference difference) =>
        difference.Object == Object && difference.Fact == Fact && difference.Live == Live && difference.New == New;

    public override string ToString() => $"[{string.Join(", ", Overlays)}] {Object}: {Fact}: live {Live ?? "(absent)"}, new {New ?? "(absent)"}";
}

/// <summary>The comparison of one overlay after subtracting the documented list.</summary>
public sealed record Reconciliation(IReadOnlyList<ContractDifference> Undocumented, IReadOnlyList<DocumentedDifference> Stale, int Documented);

public static partial class ContractComparison
{
    public const string ObjectFact = "(object)";
    public const string OwnerFact = "(owner)";
    public const string PolicyFact = "(policy with the same pod selector, types and rules)";
    public const string Present = "\"present\"";

    /// <summary>
    /// Compares the project's facts with the live ones. Objects <paramref name="terraformOwned"/> names are Terraform's:
    /// the project's overlay must leave them out. NetworkPolicies match by content, under any name.
    /// </summary>
    public static IReadOnlyList<ContractDifference> Compare(
        SortedDictionary<string, SortedDictionary<string, JsonNode?>> live,
        SortedDictionary<string, SortedDictionary<string, JsonNode?>> project,
        IReadOnlySet<string> terraformOwned)
    {
        var differences = new List<ContractDifference>();
        foreach (var (key, liveFacts) in live.Where(p => !IsPolicy(p.Key)))
        {
            if (terraformOwned.Contains(key))
            {
                if (project.ContainsKey(key))
                    differences.Add(new(key, OwnerFact, "\"terraform\"", "\"overlay\"", "k8s/ownership.yaml gives it to Terraform, yet the overlay renders it"));
                continue;
            }

            if (!project.TryGetValue(key, out var projectFacts))
            {
                differences.Add(new(key, ObjectFact, Present, null));
                continue;
            }

            foreach (var fact in liveFacts.Keys.Union(projectFacts.Keys).Order(StringComparer.Ordinal))
            {
                var liveValue = FactValue.Canonical(liveFacts.GetValueOrDefault(fact));
                var newValue = FactValue.Canonical(projectFacts.GetValueOrDefault(fact));
                if (!SameValue(liveValue, newValue))
                    differences.Add(new(key, fact, liveValue, newValue));
            }
        }

        foreach (var key in project.Keys.Where(k => !IsPolicy(k) && !live.ContainsKey(k)))
            differences.Add(new(key, ObjectFact, null, Present));

        differences.AddRange(ComparePolicies(live, project));
        return differences;
    }

    /// <summary>Subtracts exactly the documented differences that apply to <paramref name="overlay"/>; what is left, and what no longer occurs.</summary>
    public static Reconciliation Reconcile(string overlay, IReadOnlyList<ContractDifference> differences, IReadOnlyList<DocumentedDifference> documented)
    {
        var applicable = documented.Where(d => d.Overlays.Contains(overlay, StringComparer.Ordinal)).ToList();
        var undocumented = differences.Where(d => !applicable.Any(a => a.Matches(d))).ToList();
        var stale = applicable.Where(a => !differences.Any(a.Matches)).ToList();
        return new Reconciliation(undocumented, stale, applicable.Count - stale.Count);
    }

    /// <summary>Reads k8s/deliberate-differences.yaml: a list under <c>differences:</c>.</summary>
    public static IReadOnlyList<DocumentedDifference> LoadDocumented(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var list = new List<DocumentedDifference>();
        foreach (var entry in ((YamlSequenceNode)root.Children[new YamlScalarNode("differences")]).Children.Cast<YamlMappingNode>())
        {
            string Text(string key) => entry.Children.TryGetValue(new YamlScalarNode(key), out var node) && node is YamlScalarNode scalar
                ? scalar.Value ?? ""
                : throw new InvalidDataException($"a documented difference lacks '{key}': {entry}");
            var overlays = ((YamlSequenceNode)entry.Children[new YamlScalarNode("overlays")]).Children.Cast<YamlScalarNode>().Select(s => s.Value ?? "").ToList();
            list.Add(new DocumentedDifference(overlays, Text("object"), Text("fact"), Canonical(entry, "live"), Canonical(entry, "new"), Text("why"), Text("firstDeploy")));
        }

        return list;
    }

    private static string? Canonical(YamlMappingNode entry, string key)
    {
        if (!entry.Children.TryGetValue(new YamlScalarNode(key), out var node))
            throw new InvalidDataException($"a documented difference lacks '{key}' (write {key}: null where the value is absent)");
        return node switch
        {
            YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: "null" or "~" or "" } => null,
            YamlScalarNode scalar => FactValue.Canonical(JsonValue.Create(scalar.Value ?? "")),
            YamlSequenceNode sequence => FactValue.Canonical(FactValue.Of(sequence.Children.Cast<YamlScalarNode>().Select(s => s.Value ?? ""))),
            _ => throw new InvalidDataException($"'{key}' must be a string, a list of strings or null"),
        };
    }

    private static IEnumerable<ContractDifference> ComparePolicies(
        SortedDictionary<string, SortedDictionary<string, JsonNode?>> live,
        SortedDictionary<string, SortedDictionary<string, JsonNode?>> project)
    {
        var unmatched = project.Where(p => IsPolicy(p.Key)).Select(p => (p.Key, Signature: Signature(p.Key, p.Value))).ToList();
        foreach (var (key, facts) in live.Where(p => IsPolicy(p.Key)))
        {
            var signature = Signature(key, facts);
            var match = unmatched.FindIndex(u => u.Signature == signature);
            if (match >= 0)
            {
                unmatched.RemoveAt(match);
                continue;
            }

            var selector = FactValue.Canonical(facts.GetValueOrDefault("podSelector"));
            var sameSelector = project.Where(p => IsPolicy(p.Key) && FactValue.Canonical(p.Value.GetValueOrDefault("podSelector")) == selector).Select(p => p.Key).ToList();
            yield return new(key, PolicyFact, Present, null,
                $"live {signature}; project policies with that pod selector: {(sameSelector.Count == 0 ? "none" : string.Join(", ", sameSelector))}");
        }

        foreach (var (key, signature) in unmatched)
            yield return new(key, ObjectFact, null, Present, $"a policy live does not have: {signature}");
    }

    private static string Signature(string key, SortedDictionary<string, JsonNode?> facts) =>
        $"{ObjectKey.Parse(key).Namespace}: " + string.Join("; ", new[] { "podSelector", "policyTypes", "ingress", "egress" }
            .Select(f => $"{f} {FactValue.Canonical(facts.GetValueOrDefault(f))}"));

    private static bool IsPolicy(string key) => key.StartsWith("NetworkPolicy/", StringComparison.Ordinal);

    /// <summary>Equal, or the live value holds a deploy-time placeholder (&lt;ECR_REGISTRY&gt;) that the new value fills in.</summary>
    public static bool SameValue(string? live, string? project)
    {
        if (live == project)
            return true;
        if (live is null || project is null || !Placeholder().IsMatch(live))
            return false;
        var pattern = "^" + string.Join("[^\"\\s<>]+", Placeholder().Split(live).Select(Regex.Escape)) + "$";
        return Regex.IsMatch(project, pattern);
    }

    [GeneratedRegex("<[A-Z][A-Z0-9_]*>")]
    private static partial Regex Placeholder();
}
