using System.Text.RegularExpressions;
using k8s.Models;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>
/// The team roles grant what legacy-pipeline §5.1 says (evaluated over the rendered RBAC), the deployer can
/// restart the Deployments in `tesslate` (a restart-only Reload), and applying an overlay needs admin.
/// </summary>
public sealed partial class TeamRbacTests
{
    private static readonly string[] Observer = ["tesslate:observers"];
    private static readonly string[] Deployer = ["tesslate:observers", "tesslate:deployers"];
    private static readonly string[] Debugger = ["tesslate:observers", "tesslate:deployers", "tesslate:debuggers"];

    private static async Task<RbacModel> RbacAsync() => new(await Kustomize.RenderCleanAsync("k8s/overlays/aws-beta"));

    [Theory]
    [InlineData("", "pods")]
    [InlineData("", "pods/log")]
    [InlineData("", "services")]
    [InlineData("", "configmaps")]
    [InlineData("", "persistentvolumeclaims")]
    [InlineData("", "events")]
    [InlineData("", "namespaces")]
    [InlineData("", "nodes")]
    [InlineData("apps", "deployments")]
    [InlineData("apps", "replicasets")]
    [InlineData("networking.k8s.io", "ingresses")]
    public async Task Observer_reads_the_listed_resources_cluster_wide(string apiGroup, string resource)
    {
        var rbac = await RbacAsync();

        foreach (var verb in new[] { "get", "list", "watch" })
        {
            foreach (var ns in new[] { "tesslate", "kube-system", "proj-1234" })
                Assert.True(rbac.Allows(Observer, verb, apiGroup, resource, ns), $"observer cannot {verb} {resource} in {ns}");
        }
    }

    [Fact]
    public async Task Observer_mutates_nothing_and_reads_no_secrets()
    {
        var rbac = await RbacAsync();

        Assert.False(rbac.Allows(Observer, "patch", "apps", "deployments", "tesslate"));
        Assert.False(rbac.Allows(Observer, "delete", "", "pods", "tesslate"));
        Assert.False(rbac.Allows(Observer, "create", "", "pods/exec", "tesslate"));
        Assert.False(rbac.Allows(Observer, "get", "", "secrets", "tesslate"));
    }

    [Fact]
    public async Task Deployer_can_restart_the_deployments_in_tesslate_and_only_there()
    {
        var rbac = await RbacAsync();

        // kubectl rollout restart = get + patch of the Deployment; rollout status reads ReplicaSets and pods.
        Assert.True(rbac.Allows(Deployer, "get", "apps", "deployments", "tesslate"));
        Assert.True(rbac.Allows(Deployer, "patch", "apps", "deployments", "tesslate"));
        Assert.True(rbac.Allows(Deployer, "update", "apps", "deployments/scale", "tesslate"));
        Assert.True(rbac.Allows(Deployer, "delete", "", "pods", "tesslate"));
        Assert.True(rbac.Allows(Deployer, "list", "apps", "replicasets", "tesslate"));
        Assert.False(rbac.Allows(Deployer, "patch", "apps", "deployments", "kube-system"));
        Assert.False(rbac.Allows(Deployer, "patch", "apps", "daemonsets", "kube-system"));
        Assert.False(rbac.Allows(Deployer, "patch", "", "configmaps", "tesslate"));
        Assert.False(rbac.Allows(Deployer, "create", "", "pods/exec", "tesslate"));
    }

    [Fact]
    public async Task Debugger_can_exec_into_pods_in_every_namespace()
    {
        var rbac = await RbacAsync();

        Assert.True(rbac.Allows(Debugger, "create", "", "pods/exec", "tesslate"));
        Assert.True(rbac.Allows(Debugger, "create", "", "pods/exec", "kube-system"));
        Assert.True(rbac.Allows(Debugger, "patch", "apps", "deployments", "tesslate"));
        Assert.False(rbac.Allows(Debugger, "create", "rbac.authorization.k8s.io", "clusterroles", null));
    }

    [Theory]
    [InlineData("k8s/overlays/aws-beta")]
    [InlineData("k8s/overlays/aws-beta/compute")]
    [InlineData("k8s/overlays/aws-production")]
    [InlineData("k8s/overlays/aws-production/compute")]
    public async Task Applying_an_overlay_needs_admin_because_no_team_role_may_create_its_objects(string overlay)
    {
        var rbac = await RbacAsync();
        var rendering = await Kustomize.RenderCleanAsync(overlay);

        var creatable = new List<string>();
        var patchable = new List<string>();
        foreach (var item in rendering.Objects.OfType<k8s.IKubernetesObject<V1ObjectMeta>>())
        {
            var (group, resource) = Resource(item.ApiVersion, item.Kind);
            var ns = item.Metadata.NamespaceProperty;
            if (rbac.Allows(Debugger, "create", group, resource, ns))
                creatable.Add($"{item.Kind}/{item.Metadata.Name}");
            if (rbac.Allows(Debugger, "patch", group, resource, ns) && !(item.Kind == "Deployment" && ns == "tesslate"))
                patchable.Add($"{item.Kind}/{item.Metadata.Name}");
        }

        Assert.True(creatable.Count == 0, "team roles may create: " + string.Join(", ", creatable));
        Assert.True(patchable.Count == 0, "team roles may patch: " + string.Join(", ", patchable));
        // Hence KustomizeApply must run as admin (team-admin or eks-deployer), not as deployer.
        Assert.Contains(rendering.Objects, o => o is V1NetworkPolicy or V1ClusterRole or V1DaemonSet);
    }

    [Theory]
    [InlineData("team_observer", new[] { "tesslate:observers" })]
    [InlineData("team_deployer", new[] { "tesslate:observers", "tesslate:deployers" })]
    [InlineData("team_debugger", new[] { "tesslate:observers", "tesslate:deployers", "tesslate:debuggers" })]
    public async Task Terraform_access_entries_map_team_roles_to_the_groups_the_rbac_binds(string entry, string[] groups)
    {
        await Hcl2Json.StackAsync("terraform/aws");
        var eks = File.ReadAllText(InfrastructureLayout.Full("terraform/aws/cluster.tf"));
        var rbac = await RbacAsync();

        var match = Regex.Match(eks, entry + @"\s*=\s*\{[^}]*?kubernetes_groups\s*=\s*\[([^\]]*)\]", RegexOptions.Singleline);
        Assert.True(match.Success, $"access entry {entry} with kubernetes_groups not found in terraform/aws/cluster.tf");
        var declared = QuotedString().Matches(match.Groups[1].Value).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(groups, declared);
        Assert.True(rbac.Allows(declared, "get", "", "pods", "tesslate"));
    }

    [Fact]
    public async Task Admin_deployer_bootstrap_and_ci_identities_get_cluster_admin_through_access_entries()
    {
        await Hcl2Json.StackAsync("terraform/aws");
        var eks = File.ReadAllText(InfrastructureLayout.Full("terraform/aws/cluster.tf"));

        // The live entries; the GitHub deploy role reaches the cluster through eks-deployer (Terraform) and team-admin (kubectl).
        foreach (var entry in new[] { "eks_deployer_role", "terraform_user", "github_actions", "team_admin" })
            Assert.Matches(entry + @"\s*=\s*\{\s*principal_arn[^\n]*\n\s*policy_associations\s*=\s*\{\s*admin\s*=\s*\{\s*policy_arn\s*=\s*""arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy""", eks);
        Assert.Contains("enable_cluster_creator_admin_permissions = false", eks, StringComparison.Ordinal);
    }

    /// <summary>API group and plural resource name of a kind (the REST path RBAC rules name).</summary>
    private static (string Group, string Resource) Resource(string apiVersion, string kind)
    {
        var group = apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : "";
        var lower = kind.ToLowerInvariant();
        var plural = lower.EndsWith('y') ? lower[..^1] + "ies" : lower.EndsWith('s') ? lower + "es" : lower + "s";
        return (group, plural);
    }

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex QuotedString();
}
