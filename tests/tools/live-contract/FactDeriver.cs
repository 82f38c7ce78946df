using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.LiveContract;

/// <summary>
/// Derives the contract facts (issue 13 §1: identity, what the API server refuses to change, where the data lives,
/// what the application relies on) from the YAML that <c>kubectl kustomize</c> rendered. A pure function of the
/// text: the fixture tool and the test call it on the live and on the project's overlays alike.
/// </summary>
public static partial class FactDeriver
{
    /// <summary>Kinds without a namespace. kustomize stamps its namespace on kinds it does not know (VolumeSnapshotClass).</summary>
    public static readonly IReadOnlySet<string> ClusterScopedKinds = new HashSet<string>(StringComparer.Ordinal)
    {
        "Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "CSIDriver", "CSINode", "VolumeSnapshotClass",
        "PriorityClass", "PersistentVolume", "CustomResourceDefinition", "IngressClass", "RuntimeClass", "ClusterIssuer",
        "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
    };

    /// <summary>Marks a command or argument that is a script: written anew, compared by interpreter, not by text.</summary>
    public const string InlineScript = "<inline script>";

    public static SortedDictionary<string, SortedDictionary<string, JsonNode?>> Derive(string renderedYaml)
    {
        var objects = new SortedDictionary<string, SortedDictionary<string, JsonNode?>>(StringComparer.Ordinal);
        foreach (var item in Documents(renderedYaml))
        {
            var key = Identity(item);
            if (!objects.TryAdd(key.ToString(), Facts(item)))
                throw new InvalidDataException($"{key} is rendered twice");
        }

        return objects;
    }

    public static ObjectKey Identity(JsonObject item)
    {
        var kind = Str(item["kind"]) ?? "";
        var name = Str(item["metadata"]?["name"]) ?? "";
        var ns = ClusterScopedKinds.Contains(kind) ? "" : Str(item["metadata"]?["namespace"]) ?? "default";
        if (kind is "ConfigMap" or "Secret")
            name = KustomizeHashSuffix().Replace(name, "");
        return new ObjectKey(kind, ns, name);
    }

    /// <summary>The rendered documents as JSON trees (every scalar a string: "8000" and 8000 are the same fact).</summary>
    public static IReadOnlyList<JsonObject> Documents(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException exception)
        {
            throw new InvalidDataException($"rendered YAML does not parse: {exception.Message}", exception);
        }

        return [.. stream.Documents.Select(d => ToJson(d.RootNode)).OfType<JsonObject>()];
    }

    private static SortedDictionary<string, JsonNode?> Facts(JsonObject item)
    {
        var facts = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal);
        var spec = item["spec"] as JsonObject;
        switch (Str(item["kind"]))
        {
            case "Deployment" or "DaemonSet" or "ReplicaSet":
                facts["selector"] = Selector(spec?["selector"]);
                PodFacts(spec?["template"]?["spec"] as JsonObject, facts);
                break;
            case "StatefulSet":
                facts["selector"] = Selector(spec?["selector"]);
                facts["serviceName"] = Value(Str(spec?["serviceName"]) ?? "");
                facts["volumeClaimTemplates"] = FactValue.Of(Items(spec?["volumeClaimTemplates"]).Select(t =>
                    $"{Str(t["metadata"]?["name"])} {ClaimSummary(t["spec"] as JsonObject)}").Order(StringComparer.Ordinal));
                PodFacts(spec?["template"]?["spec"] as JsonObject, facts);
                break;
            case "CronJob":
                facts["schedule"] = Value(Str(spec?["schedule"]) ?? "");
                PodFacts(spec?["jobTemplate"]?["spec"]?["template"]?["spec"] as JsonObject, facts);
                break;
            case "Job":
                PodFacts(spec?["template"]?["spec"] as JsonObject, facts);
                break;
            case "PersistentVolumeClaim":
                facts["size"] = Value(Str(spec?["resources"]?["requests"]?["storage"]) ?? "");
                facts["storageClass"] = Value(Str(spec?["storageClassName"]) ?? "(cluster default)");
                facts["accessModes"] = FactValue.Of(Strings(spec?["accessModes"]).Order(StringComparer.Ordinal));
                break;
            case "Service":
                facts["type"] = Value(Str(spec?["type"]) ?? "ClusterIP");
                if (Str(spec?["clusterIP"]) == "None")
                    facts["clusterIP"] = Value("None");
                facts["selector"] = FactValue.Of(Labels(spec?["selector"]));
                facts["ports"] = FactValue.Of(Items(spec?["ports"]).Select(p =>
                    $"{Named(p)}{Str(p["port"])}->{Str(p["targetPort"]) ?? Str(p["port"])}/{Str(p["protocol"]) ?? "TCP"}").Order(StringComparer.Ordinal));
                break;
            case "Role" or "ClusterRole":
                facts["rules"] = FactValue.Of(Rules(item["rules"]));
                break;
            case "RoleBinding" or "ClusterRoleBinding":
                facts["roleRef"] = Value($"{Str(item["roleRef"]?["kind"])}/{Str(item["roleRef"]?["name"])}");
                facts["subjects"] = FactValue.Of(Items(item["subjects"]).Select(s => Str(s["kind"]) == "ServiceAccount"
                    ? $"ServiceAccount {Str(s["namespace"])}/{Str(s["name"])}"
                    : $"{Str(s["kind"])} {Str(s["name"])}").Order(StringComparer.Ordinal));
                break;
            case "NetworkPolicy":
                NetworkPolicyFacts(spec, facts);
                break;
            case "PodDisruptionBudget":
                facts["selector"] = Selector(spec?["selector"]);
                if (Str(spec?["minAvailable"]) is { } min)
                    facts["minAvailable"] = Value(min);
                if (Str(spec?["maxUnavailable"]) is { } max)
                    facts["maxUnavailable"] = Value(max);
                break;
            case "StorageClass":
                facts["provisioner"] = Value(Str(item["provisioner"]) ?? "");
                facts["parameters"] = FactValue.Of(Labels(item["parameters"]));
                facts["reclaimPolicy"] = Value(Str(item["reclaimPolicy"]) ?? "Delete");
                facts["volumeBindingMode"] = Value(Str(item["volumeBindingMode"]) ?? "Immediate");
                facts["allowVolumeExpansion"] = Value(Str(item["allowVolumeExpansion"]) ?? "false");
                break;
            case "VolumeSnapshotClass":
                facts["driver"] = Value(Str(item["driver"]) ?? "");
                facts["deletionPolicy"] = Value(Str(item["deletionPolicy"]) ?? "");
                facts["parameters"] = FactValue.Of(Labels(item["parameters"]));
                break;
            case "CSIDriver":
                facts["spec"] = Value(Canonical(spec));
                break;
            case "LimitRange":
                facts["limits"] = Value(Canonical(spec?["limits"]));
                break;
            case "ResourceQuota":
                facts["hard"] = FactValue.Of(Labels(spec?["hard"]));
                break;
        }

        return facts;
    }

    /// <summary>Pod-level facts: service account, data volumes, init order, and per container what the application relies on.</summary>
    private static void PodFacts(JsonObject? pod, SortedDictionary<string, JsonNode?> facts)
    {
        if (pod is null)
            return;
        facts["serviceAccount"] = Value(Str(pod["serviceAccountName"]) ?? Str(pod["serviceAccount"]) ?? "default");

        var volumes = Items(pod["volumes"]).ToDictionary(v => Str(v["name"]) ?? "", VolumeSource, StringComparer.Ordinal);
        facts["dataVolumes"] = FactValue.Of(volumes.Values.Where(v => v.StartsWith("pvc:", StringComparison.Ordinal) || v.StartsWith("hostPath:", StringComparison.Ordinal))
            .Distinct().Order(StringComparer.Ordinal));

        var initContainers = Items(pod["initContainers"]).ToList();
        if (initContainers.Count > 0)
            facts["initContainers"] = FactValue.Of(initContainers.Select(c => Str(c["name"]) ?? ""));

        foreach (var container in initContainers.Concat(Items(pod["containers"])))
        {
            var prefix = $"container/{Str(container["name"])}/";
            if (container["command"] is JsonArray command)
                facts[prefix + "command"] = FactValue.Of(command.Select(Argument));
            if (container["args"] is JsonArray args)
                facts[prefix + "args"] = FactValue.Of(args.Select(Argument));
            var ports = Items(container["ports"]).Select(p => $"{Named(p)}{Str(p["containerPort"])}/{Str(p["protocol"]) ?? "TCP"}").Order(StringComparer.Ordinal).ToList();
            if (ports.Count > 0)
                facts[prefix + "ports"] = FactValue.Of(ports);
            foreach (var variable in Items(container["env"]))
                facts[$"{prefix}env/{Str(variable["name"])}"] = Value(EnvSource(variable));
            var envFrom = Items(container["envFrom"]).Select(EnvFromSource).ToList();
            if (envFrom.Count > 0)
                facts[prefix + "envFrom"] = FactValue.Of(envFrom);
            var mounts = Items(container["volumeMounts"]).Select(m => MountSummary(m, volumes)).Order(StringComparer.Ordinal).ToList();
            if (mounts.Count > 0)
                facts[prefix + "mounts"] = FactValue.Of(mounts);
        }
    }

    private static string Argument(JsonNode? argument)
    {
        var text = Str(argument) ?? "";
        return text.Contains('\n', StringComparison.Ordinal) ? InlineScript : text;
    }

    private static string EnvSource(JsonObject variable)
    {
        var from = variable["valueFrom"];
        var optional = Str(from?.AsObject().Select(p => p.Value?["optional"]).FirstOrDefault(o => o is not null)) == "true" ? " (optional)" : "";
        if (from?["secretKeyRef"] is JsonObject secret)
            return $"secret:{Str(secret["name"])}/{Str(secret["key"])}{optional}";
        if (from?["configMapKeyRef"] is JsonObject map)
            return $"configMap:{Str(map["name"])}/{Str(map["key"])}{optional}";
        if (from?["fieldRef"] is JsonObject field)
            return $"field:{Str(field["fieldPath"])}";
        if (from?["resourceFieldRef"] is JsonObject resource)
            return $"resource:{Str(resource["containerName"])}/{Str(resource["resource"])}";
        return "value:" + (Str(variable["value"]) ?? "");
    }

    private static string EnvFromSource(JsonObject source)
    {
        var prefix = Str(source["prefix"]) is { } p ? $" prefix {p}" : "";
        if (source["secretRef"] is JsonObject secret)
            return $"secret:{Str(secret["name"])}{prefix}{(Str(secret["optional"]) == "true" ? " (optional)" : "")}";
        if (source["configMapRef"] is JsonObject map)
            return $"configMap:{Str(map["name"])}{prefix}{(Str(map["optional"]) == "true" ? " (optional)" : "")}";
        return Canonical(source);
    }

    private static string VolumeSource(JsonObject volume)
    {
        if (volume["persistentVolumeClaim"] is JsonObject claim)
            return "pvc:" + Str(claim["claimName"]);
        if (volume["hostPath"] is JsonObject host)
            return "hostPath:" + Str(host["path"]);
        if (volume["configMap"] is JsonObject map)
            return "configMap:" + Str(map["name"]);
        if (volume["secret"] is JsonObject secret)
            return "secret:" + Str(secret["secretName"]);
        if (volume["csi"] is JsonObject csi)
            return "csi:" + Str(csi["driver"]);
        var kind = volume.Select(p => p.Key).FirstOrDefault(k => k != "name") ?? "unknown";
        return kind;
    }

    private static string MountSummary(JsonObject mount, IReadOnlyDictionary<string, string> volumes)
    {
        var source = volumes.GetValueOrDefault(Str(mount["name"]) ?? "", $"(undeclared volume {Str(mount["name"])})");
        var text = $"{Str(mount["mountPath"])} <- {source}";
        if (Str(mount["subPath"]) is { } subPath)
            text += $" subPath {subPath}";
        if (Str(mount["mountPropagation"]) is { } propagation)
            text += $" {propagation}";
        if (Str(mount["readOnly"]) == "true")
            text += " (ro)";
        return text;
    }

    private static string ClaimSummary(JsonObject? spec) =>
        $"{Str(spec?["resources"]?["requests"]?["storage"])} {Str(spec?["storageClassName"]) ?? "(cluster default)"} {string.Join(',', Strings(spec?["accessModes"]))}";

    private static void NetworkPolicyFacts(JsonObject? spec, SortedDictionary<string, JsonNode?> facts)
    {
        facts["podSelector"] = Selector(spec?["podSelector"]);
        // The API server's default: Ingress always, Egress when egress rules are given.
        var types = spec?["policyTypes"] is JsonArray declared
            ? Strings(declared)
            : spec?["egress"] is JsonArray ? ["Ingress", "Egress"] : new[] { "Ingress" };
        facts["policyTypes"] = FactValue.Of(types.Order(StringComparer.Ordinal));
        facts["ingress"] = FactValue.Of(Items(spec?["ingress"]).Select(r => Rule(r, "from")).Order(StringComparer.Ordinal));
        facts["egress"] = FactValue.Of(Items(spec?["egress"]).Select(r => Rule(r, "to")).Order(StringComparer.Ordinal));
    }

    /// <summary>One rule as text: its peers and ports, sorted; an empty or absent list means "any".</summary>
    private static string Rule(JsonObject rule, string peersKey)
    {
        var peers = Items(rule[peersKey]).Select(Peer).Order(StringComparer.Ordinal).ToList();
        var ports = Items(rule["ports"]).Select(p => $"{Str(p["port"]) ?? "any"}{(Str(p["endPort"]) is { } end ? "-" + end : "")}/{Str(p["protocol"]) ?? "TCP"}")
            .Order(StringComparer.Ordinal).ToList();
        return $"{peersKey} [{(peers.Count == 0 ? "any" : string.Join(" | ", peers))}] ports [{(ports.Count == 0 ? "any" : string.Join(", ", ports))}]";
    }

    private static string Peer(JsonObject peer)
    {
        if (peer["ipBlock"] is JsonObject block)
        {
            var except = Strings(block["except"]).Order(StringComparer.Ordinal).ToList();
            return $"ipBlock {Str(block["cidr"])}{(except.Count > 0 ? " except " + string.Join(",", except) : "")}";
        }

        var parts = new List<string>();
        if (peer["podSelector"] is { } pods)
            parts.Add($"pods({string.Join(",", SelectorTerms(pods))})");
        if (peer["namespaceSelector"] is { } namespaces)
            parts.Add($"namespaces({string.Join(",", SelectorTerms(namespaces))})");
        return parts.Count == 0 ? "(empty peer)" : string.Join(" in ", parts);
    }

    private static JsonNode Selector(JsonNode? selector) => FactValue.Of(SelectorTerms(selector));

    private static IEnumerable<string> SelectorTerms(JsonNode? selector)
    {
        var terms = Labels(selector?["matchLabels"]).ToList();
        terms.AddRange(Items(selector?["matchExpressions"]).Select(e =>
            $"{Str(e["key"])} {Str(e["operator"])} ({string.Join(",", Strings(e["values"]).Order(StringComparer.Ordinal))})"));
        return terms.Order(StringComparer.Ordinal);
    }

    private static IEnumerable<string> Rules(JsonNode? rules)
    {
        var result = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rule in Items(rules))
        {
            var names = Strings(rule["resourceNames"]).ToList();
            var suffix = names.Count > 0 ? $" [{string.Join(",", names.Order(StringComparer.Ordinal))}]" : "";
            var groups = Strings(rule["apiGroups"]).Select(g => g.Length > 0 ? g : "core").DefaultIfEmpty("core");
            foreach (var group in groups)
            {
                foreach (var resource in Strings(rule["resources"]))
                {
                    foreach (var verb in Strings(rule["verbs"]))
                        result.Add($"{group} {resource} {verb}{suffix}");
                }
            }

            foreach (var url in Strings(rule["nonResourceURLs"]))
            {
                foreach (var verb in Strings(rule["verbs"]))
                    result.Add($"url {url} {verb}");
            }
        }

        return result;
    }

    private static IEnumerable<string> Labels(JsonNode? map) =>
        map is JsonObject labels ? labels.Select(p => $"{p.Key}={Str(p.Value)}").Order(StringComparer.Ordinal) : [];

    private static string Named(JsonObject port) => Str(port["name"]) is { Length: > 0 } name ? name + " " : "";

    private static IEnumerable<JsonObject> Items(JsonNode? node) => node is JsonArray array ? array.OfType<JsonObject>() : [];

    private static IEnumerable<string> Strings(JsonNode? node) => node is JsonArray array ? array.Select(n => Str(n) ?? "") : [];

    private static JsonNode Value(string text) => FactValue.Of(text);

    private static string? Str(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>Sorted-key JSON text of a subtree: the same structure always reads the same.</summary>
    private static string Canonical(JsonNode? node) => FactValue.Canonical(Sorted(node)) ?? "null";

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Sorted)]),
        _ => node?.DeepClone(),
    };

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value ?? "", ToJson(p.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode scalar when scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or null => null,
        YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
        _ => null,
    };

    /// <summary>kustomize's content hash on generated ConfigMaps and Secrets: ten characters of its own alphabet.</summary>
    [GeneratedRegex("-[2456789bcdfghkmt]{10}$")]
    private static partial Regex KustomizeHashSuffix();
}
