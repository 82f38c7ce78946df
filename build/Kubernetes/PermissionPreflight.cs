using k8s;
using k8s.Models;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary>One thing the run must be allowed to do (a SelfSubjectAccessReview's resource attributes).</summary>
public sealed record PermissionRequirement(string Verb, string Group, string Resource, string? Namespace, string? Subresource = null)
{
    public override string ToString() =>
        $"{Verb} {Resource}{(Subresource is null ? "" : "/" + Subresource)}{(Group.Length == 0 ? "" : "." + Group)}{(Namespace is null ? " (cluster-wide)" : $" in namespace {Namespace}")}";
}

/// <summary>
/// Asks the API server, before anything changes, whether the identity may do everything the run will do
/// (derived from the rendered objects plus what the caller adds), and lists every missing permission at once.
/// </summary>
public static class PermissionPreflight
{
    /// <summary>Server-side apply needs get, create (new objects) and patch on every applied object's resource and namespace.</summary>
    public static IReadOnlyList<PermissionRequirement> ForApply(ApplyPlan plan) =>
        [.. plan.Objects
            .SelectMany(p => new[] { "get", "create", "patch" }.Select(verb =>
                new PermissionRequirement(verb, p.Resource.Group, p.Resource.Plural, p.Resource.Namespaced ? p.Object.Namespace : null)))
            .Distinct()];

    /// <summary>Restarting and following rollouts: patch and watch the workloads, read their ReplicaSets, pods, logs and events.</summary>
    public static IReadOnlyList<PermissionRequirement> ForRollouts(IEnumerable<ObjectRef> workloads, bool restart) =>
        [.. workloads.SelectMany(w =>
        {
            var plural = w.Kind.ToLowerInvariant() + "s";
            var list = new List<PermissionRequirement>
            {
                new("get", "apps", plural, w.Namespace), new("watch", "apps", plural, w.Namespace),
                new("list", "apps", "replicasets", w.Namespace), new("list", "", "pods", w.Namespace),
                new("get", "", "pods", w.Namespace, "log"), new("list", "", "events", w.Namespace),
            };
            if (restart)
                list.Add(new("patch", "apps", plural, w.Namespace));
            return list;
        }).Distinct()];

    /// <summary>
    /// Around the apply: the deploy lock's Lease, the release history's ConfigMap (a Deploy records its release) and
    /// exec into a pod (SeedApps), all in <paramref name="namespace"/>.
    /// </summary>
    public static IReadOnlyList<PermissionRequirement> ForRelease(string @namespace, bool history, bool seeds)
    {
        var list = new List<PermissionRequirement>
        {
            new("get", "coordination.k8s.io", "leases", @namespace), new("create", "coordination.k8s.io", "leases", @namespace),
            new("update", "coordination.k8s.io", "leases", @namespace),
        };
        if (history)
            list.AddRange(new[] { "get", "create", "update" }.Select(verb => new PermissionRequirement(verb, "", "configmaps", @namespace)));
        if (seeds)
            list.Add(new("create", "", "pods", @namespace, "exec"));
        return list;
    }

    public static async Task<IReadOnlyList<PermissionRequirement>> FindMissingAsync(KubeCluster cluster, IEnumerable<PermissionRequirement> requirements, CancellationToken cancellationToken)
    {
        var distinct = requirements.Distinct().ToList();
        using var gate = new SemaphoreSlim(8);
        var answers = await Task.WhenAll(distinct.Select(async requirement =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var review = new V1SelfSubjectAccessReview
                {
                    ApiVersion = "authorization.k8s.io/v1",
                    Kind = "SelfSubjectAccessReview",
                    Spec = new V1SelfSubjectAccessReviewSpec
                    {
                        ResourceAttributes = new V1ResourceAttributes
                        {
                            Verb = requirement.Verb,
                            Group = requirement.Group,
                            Resource = requirement.Resource,
                            Subresource = requirement.Subresource,
                            NamespaceProperty = requirement.Namespace,
                        },
                    },
                };
                var answer = await cluster.Client.AuthorizationV1.CreateSelfSubjectAccessReviewAsync(review, cancellationToken: cancellationToken);
                return (requirement, allowed: answer.Status?.Allowed == true);
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. answers.Where(a => !a.allowed).Select(a => a.requirement)];
    }

    /// <param name="fix">What to do about a denial (the caller knows which role has the permissions).</param>
    public static async Task EnsureAsync(KubeCluster cluster, IEnumerable<PermissionRequirement> requirements, string fix, CancellationToken cancellationToken)
    {
        var missing = await FindMissingAsync(cluster, requirements, cancellationToken);
        if (missing.Count > 0)
            throw new BuildFailure(
                $"The identity used for {cluster.DisplayName} lacks {missing.Count} permission(s) this run needs; nothing was applied:{Environment.NewLine}"
                + string.Join(Environment.NewLine, missing.Select(m => "  - " + m)), fix);
    }
}
