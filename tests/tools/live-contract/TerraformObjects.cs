using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Tesslate.Build.LiveContract;

/// <summary>
/// The Kubernetes objects a Terraform stack creates (kubernetes_* resources and kubectl_manifest bodies), by identity:
/// where the live overlays render an object that live Terraform also creates, Terraform is its one owner.
/// </summary>
public static partial class TerraformObjects
{
    private static readonly Dictionary<string, string> Kinds = new(StringComparer.Ordinal)
    {
        ["kubernetes_namespace"] = "Namespace",
        ["kubernetes_service_account"] = "ServiceAccount",
        ["kubernetes_secret"] = "Secret",
        ["kubernetes_config_map"] = "ConfigMap",
        ["kubernetes_storage_class"] = "StorageClass",
        ["kubernetes_priority_class"] = "PriorityClass",
        ["kubernetes_deployment"] = "Deployment",
        ["kubernetes_service"] = "Service",
        ["kubernetes_persistent_volume_claim"] = "PersistentVolumeClaim",
        ["kubernetes_network_policy"] = "NetworkPolicy",
        ["kubernetes_cluster_role"] = "ClusterRole",
        ["kubernetes_cluster_role_binding"] = "ClusterRoleBinding",
        ["kubernetes_role"] = "Role",
        ["kubernetes_role_binding"] = "RoleBinding",
        ["kubernetes_cron_job"] = "CronJob",
        ["kubernetes_ingress"] = "Ingress",
    };

    /// <summary>Parses every .tf file of <paramref name="stackDirectory"/> with @cdktf/hcl2json (tests/tools/hcl2json).</summary>
    public static async Task<IReadOnlyList<ObjectKey>> ReadAsync(string stackDirectory, string hcl2jsonDirectory, CancellationToken cancellationToken)
    {
        var files = Directory.GetFiles(stackDirectory, "*.tf").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new ContractToolException($"no .tf files in {stackDirectory}", "Point the tool at a checkout with k8s/terraform/aws.");
        var script = Path.Combine(hcl2jsonDirectory, "parse.js");
        if (!Directory.Exists(Path.Combine(hcl2jsonDirectory, "node_modules", "@cdktf", "hcl2json")))
            throw new ContractToolException("@cdktf/hcl2json is not installed", $"Run: npm ci --prefix {hcl2jsonDirectory}");
        var result = await Tools.RunAsync("node", [script, .. files], hcl2jsonDirectory, cancellationToken);
        if (result.ExitCode != 0)
            throw new ContractToolException($"hcl2json could not parse {stackDirectory}: {result.Errors.Trim()}", "Check that the stack is valid HCL.");
        return FromParsedFiles(JsonNode.Parse(result.Output)!.AsObject().Select(p => p.Value!.AsObject()));
    }

    /// <summary>Pure: identities from hcl2json's output of each file.</summary>
    public static IReadOnlyList<ObjectKey> FromParsedFiles(IEnumerable<JsonObject> files)
    {
        var resources = new List<(string Type, string Label, JsonObject Body)>();
        foreach (var file in files)
        {
            if (file["resource"] is not JsonObject byType)
                continue;
            foreach (var (type, byLabel) in byType)
            {
                foreach (var (label, bodies) in byLabel!.AsObject())
                    resources.AddRange(bodies!.AsArray().OfType<JsonObject>().Select(body => (type, label, body)));
            }
        }

        // Namespaces referenced as kubernetes_namespace.<label>.metadata[0].name resolve to their names.
        var namespaceNames = resources.Where(r => BaseType(r.Type) == "kubernetes_namespace")
            .ToDictionary(r => r.Label, r => Metadata(r.Body, "name") ?? r.Label, StringComparer.Ordinal);

        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (type, _, body) in resources)
        {
            if (type == "kubectl_manifest")
            {
                var text = body["yaml_body"]?.ToString() ?? "";
                var kind = FirstMatch(KindInBody(), text);
                var name = FirstMatch(NameInBody(), text);
                if (kind is null || name is null)
                    continue;
                var ns = FactDeriver.ClusterScopedKinds.Contains(kind) ? ""
                    : FirstMatch(NamespaceReferenceInBody(), text) is { } label ? namespaceNames.GetValueOrDefault(label, label)
                    : FirstMatch(NamespaceInBody(), text) ?? "default";
                keys.Add(new ObjectKey(kind, ns, name).ToString());
                continue;
            }

            if (!Kinds.TryGetValue(BaseType(type), out var mapped))
                continue;
            var objectName = Metadata(body, "name");
            if (objectName is null)
                continue;
            var declaredNamespace = Metadata(body, "namespace");
            var resolved = declaredNamespace is null ? "default" : NamespaceReference().Match(declaredNamespace) is { Success: true } reference
                ? namespaceNames.GetValueOrDefault(reference.Groups[1].Value, declaredNamespace)
                : declaredNamespace;
            keys.Add(new ObjectKey(mapped, FactDeriver.ClusterScopedKinds.Contains(mapped) ? "" : resolved, objectName).ToString());
        }

        return [.. keys.Select(ObjectKey.Parse)];
    }

    private static string BaseType(string type) => type.EndsWith("_v1", StringComparison.Ordinal) ? type[..^3] : type;

    private static string? Metadata(JsonObject body, string key) =>
        body["metadata"] is JsonArray { Count: > 0 } metadata && metadata[0]?[key] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string? FirstMatch(Regex regex, string text) => regex.Match(text) is { Success: true } match ? match.Groups[1].Value : null;

    [GeneratedRegex(@"\$\{kubernetes_namespace(?:_v1)?\.([A-Za-z0-9_-]+)\.metadata\[0\]\.name\}")]
    private static partial Regex NamespaceReference();

    [GeneratedRegex(@"\bnamespace\s*=\s*kubernetes_namespace(?:_v1)?\.([A-Za-z0-9_-]+)\.metadata")]
    private static partial Regex NamespaceReferenceInBody();

    [GeneratedRegex(@"kind\s*[=:]\s*""?([A-Za-z]+)")]
    private static partial Regex KindInBody();

    [GeneratedRegex(@"metadata\s*[=:]\s*\{?[^}]*?\bname\s*[=:]\s*""?([a-z0-9.-]+)")]
    private static partial Regex NameInBody();

    [GeneratedRegex(@"metadata\s*[=:]\s*\{?[^}]*?\bnamespace\s*[=:]\s*""?([a-z0-9.-]+)")]
    private static partial Regex NamespaceInBody();
}
