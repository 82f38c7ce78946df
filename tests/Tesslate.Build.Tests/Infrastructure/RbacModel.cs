using k8s.Models;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>
/// Evaluates Kubernetes RBAC for groups over rendered Roles, ClusterRoles and their bindings, with the API
/// server's rules: a RoleBinding grants in its namespace (also when it refers to a ClusterRole), a
/// ClusterRoleBinding everywhere; "*" matches any verb, group or resource.
/// </summary>
internal sealed class RbacModel(Rendering rendering)
{
    private readonly IReadOnlyList<V1ClusterRole> _clusterRoles = [.. rendering.OfType<V1ClusterRole>()];
    private readonly IReadOnlyList<V1Role> _roles = [.. rendering.OfType<V1Role>()];
    private readonly IReadOnlyList<V1RoleBinding> _roleBindings = [.. rendering.OfType<V1RoleBinding>()];
    private readonly IReadOnlyList<V1ClusterRoleBinding> _clusterRoleBindings = [.. rendering.OfType<V1ClusterRoleBinding>()];

    /// <summary>Can a user in <paramref name="groups"/> do <paramref name="verb"/> on apiGroup/resource in namespace (null = cluster scope)?</summary>
    public bool Allows(IReadOnlyCollection<string> groups, string verb, string apiGroup, string resource, string? @namespace)
    {
        foreach (var binding in _clusterRoleBindings.Where(b => Binds(b.Subjects, groups)))
        {
            if (RulesOf(binding.RoleRef, null).Any(rule => Matches(rule, verb, apiGroup, resource)))
                return true;
        }

        if (@namespace is null)
            return false;

        foreach (var binding in _roleBindings.Where(b => b.Namespace() == @namespace && Binds(b.Subjects, groups)))
        {
            if (RulesOf(binding.RoleRef, @namespace).Any(rule => Matches(rule, verb, apiGroup, resource)))
                return true;
        }

        return false;
    }

    private static bool Binds(IList<Rbacv1Subject>? subjects, IReadOnlyCollection<string> groups) =>
        subjects?.Any(subject => subject.Kind == "Group" && groups.Contains(subject.Name)) ?? false;

    private IEnumerable<V1PolicyRule> RulesOf(V1RoleRef roleRef, string? @namespace) => roleRef.Kind switch
    {
        "ClusterRole" => _clusterRoles.Where(r => r.Name() == roleRef.Name).SelectMany(r => r.Rules ?? []),
        "Role" => _roles.Where(r => r.Name() == roleRef.Name && r.Namespace() == @namespace).SelectMany(r => r.Rules ?? []),
        _ => [],
    };

    private static bool Matches(V1PolicyRule rule, string verb, string apiGroup, string resource) =>
        Contains(rule.Verbs, verb) && Contains(rule.ApiGroups, apiGroup) && Contains(rule.Resources, resource);

    private static bool Contains(IList<string>? values, string value) => values is not null && (values.Contains("*") || values.Contains(value));
}
