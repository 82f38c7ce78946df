using System.Text.Json.Nodes;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>One resource type the fake serves: where it lives in the API and how it behaves.</summary>
public sealed record KubeResource(
    string Group,
    string Version,
    string Plural,
    string Kind,
    bool Namespaced,
    string[] ShortNames,
    bool HasStatus = false,
    bool IsReview = false)
{
    public string GroupVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
    public string Singular => Kind.ToLowerInvariant();
    public string ListKind => Kind + "List";

    /// <summary>"deployments.apps" or "pods": the name the real server uses in messages.</summary>
    public string QualifiedName => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public string[] Verbs => IsReview
        ? ["create"]
        : ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
}

/// <summary>The resource types the fake knows; everything else answers 404 like a server without that API.</summary>
public static class KubeResources
{
    public static readonly IReadOnlyList<KubeResource> All =
    [
        new("", "v1", "namespaces", "Namespace", false, ["ns"], HasStatus: true),
        new("", "v1", "nodes", "Node", false, ["no"], HasStatus: true),
        new("", "v1", "configmaps", "ConfigMap", true, ["cm"]),
        new("", "v1", "secrets", "Secret", true, []),
        new("", "v1", "services", "Service", true, ["svc"], HasStatus: true),
        new("", "v1", "serviceaccounts", "ServiceAccount", true, ["sa"]),
        new("", "v1", "pods", "Pod", true, ["po"], HasStatus: true),
        new("", "v1", "events", "Event", true, ["ev"]),
        new("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, ["pvc"], HasStatus: true),
        new("", "v1", "resourcequotas", "ResourceQuota", true, ["quota"], HasStatus: true),
        new("", "v1", "limitranges", "LimitRange", true, ["limits"]),
        new("apps", "v1", "deployments", "Deployment", true, ["deploy"], HasStatus: true),
        new("apps", "v1", "replicasets", "ReplicaSet", true, ["rs"], HasStatus: true),
        new("apps", "v1", "daemonsets", "DaemonSet", true, ["ds"], HasStatus: true),
        new("apps", "v1", "statefulsets", "StatefulSet", true, ["sts"], HasStatus: true),
        new("batch", "v1", "jobs", "Job", true, [], HasStatus: true),
        new("batch", "v1", "cronjobs", "CronJob", true, ["cj"], HasStatus: true),
        new("rbac.authorization.k8s.io", "v1", "roles", "Role", true, []),
        new("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, []),
        new("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, []),
        new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, []),
        new("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, ["netpol"]),
        new("networking.k8s.io", "v1", "ingresses", "Ingress", true, ["ing"], HasStatus: true),
        new("storage.k8s.io", "v1", "storageclasses", "StorageClass", false, ["sc"]),
        new("storage.k8s.io", "v1", "csidrivers", "CSIDriver", false, []),
        new("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, ["pdb"], HasStatus: true),
        new("coordination.k8s.io", "v1", "leases", "Lease", true, []),
        new("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, [], IsReview: true),
        new("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses", "VolumeSnapshotClass", false, ["vsclass"]),
        new("cert-manager.io", "v1", "certificates", "Certificate", true, ["cert"], HasStatus: true),
    ];

    public static KubeResource? Find(string group, string version, string plural) =>
        All.FirstOrDefault(r => r.Group == group && r.Version == version && r.Plural == plural);

    public static KubeResource? FindKind(string apiVersion, string kind)
    {
        var slash = apiVersion.IndexOf('/');
        var (group, version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
        return All.FirstOrDefault(r => r.Group == group && r.Version == version && r.Kind == kind);
    }

    public static KubeResource Get(string group, string plural) =>
        All.First(r => r.Group == group && r.Plural == plural);

    public static readonly KubeResource Namespaces = Get("", "namespaces");
    public static readonly KubeResource Nodes = Get("", "nodes");
    public static readonly KubeResource Pods = Get("", "pods");
    public static readonly KubeResource Events = Get("", "events");
    public static readonly KubeResource Deployments = Get("apps", "deployments");
    public static readonly KubeResource ReplicaSets = Get("apps", "replicasets");
    public static readonly KubeResource DaemonSets = Get("apps", "daemonsets");
    public static readonly KubeResource StatefulSets = Get("apps", "statefulsets");

    internal static JsonObject CoreVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject
        {
            ["clientCIDR"] = "0.0.0.0/0",
            ["serverAddress"] = serverAddress,
        }),
    };

    internal static JsonObject GroupList()
    {
        var groups = new JsonArray();
        foreach (var g in All.Where(r => r.Group.Length > 0).GroupBy(r => r.Group))
        {
            var versions = new JsonArray();
            foreach (var v in g.Select(r => r.Version).Distinct())
            {
                versions.Add(new JsonObject { ["groupVersion"] = $"{g.Key}/{v}", ["version"] = v });
            }

            groups.Add(new JsonObject
            {
                ["name"] = g.Key,
                ["versions"] = versions,
                ["preferredVersion"] = versions[0]!.DeepClone(),
            });
        }

        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    internal static JsonObject? Group(string group)
    {
        var list = GroupList()["groups"]!.AsArray();
        var found = list.FirstOrDefault(g => (string?)g!["name"] == group);
        if (found is null)
        {
            return null;
        }

        var result = found.DeepClone().AsObject();
        result["kind"] = "APIGroup";
        result["apiVersion"] = "v1";
        return result;
    }

    internal static JsonObject? ResourceList(string group, string version)
    {
        var resources = All.Where(r => r.Group == group && r.Version == version).ToList();
        if (resources.Count == 0)
        {
            return null;
        }

        var items = new JsonArray();
        foreach (var r in resources)
        {
            items.Add(new JsonObject
            {
                ["name"] = r.Plural,
                ["singularName"] = r.Singular,
                ["namespaced"] = r.Namespaced,
                ["kind"] = r.Kind,
                ["verbs"] = new JsonArray(r.Verbs.Select(v => (JsonNode)v).ToArray()),
                ["shortNames"] = new JsonArray(r.ShortNames.Select(v => (JsonNode)v).ToArray()),
            });
            foreach (var sub in Subresources(r))
            {
                items.Add(new JsonObject
                {
                    ["name"] = $"{r.Plural}/{sub.Name}",
                    ["singularName"] = "",
                    ["namespaced"] = r.Namespaced,
                    ["kind"] = sub.Kind,
                    ["verbs"] = new JsonArray(sub.Verbs.Select(v => (JsonNode)v).ToArray()),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = resources[0].GroupVersion,
            ["resources"] = items,
        };
    }

    private static IEnumerable<(string Name, string Kind, string[] Verbs)> Subresources(KubeResource r)
    {
        if (r.HasStatus)
        {
            yield return ("status", r.Kind, ["get", "patch", "update"]);
        }

        if (r.Plural == "pods")
        {
            yield return ("exec", "PodExecOptions", ["create", "get"]);
            yield return ("log", "Pod", ["get"]);
        }
    }
}
