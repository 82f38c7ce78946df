using Tesslate.Build.Kubernetes;
using Tesslate.Build.Kubernetes.Operations;

namespace Tesslate.Build.Platform;

/// <summary>
/// What Reload will do (legacy <c>reload</c>, §1.4): with no names, apply the overlay and restart backend, frontend
/// and worker; with names, restart only those (litellm first syncs its ConfigMap). Pure; the target runs it.
/// </summary>
public sealed record ReloadPlan(IReadOnlyList<ObjectRef> Restarts, bool ApplyManifests, bool SyncLitellmConfig)
{
    public static ReloadPlan For(IReadOnlyList<string> names, IEnumerable<ObjectRef> renderedWorkloads)
    {
        if (names.Count == 0)
            return new ReloadPlan(PlatformWorkloads.ReloadDefaults, ApplyManifests: true, SyncLitellmConfig: false);
        var restarts = PlatformWorkloads.Resolve(names, renderedWorkloads);
        return new ReloadPlan(restarts, ApplyManifests: false, SyncLitellmConfig: restarts.Contains(PlatformWorkloads.Litellm));
    }

    /// <summary>Restarts in the tesslate namespace (in parallel), then those in kube-system (one by one, as legacy did).</summary>
    public IReadOnlyList<ObjectRef> PlatformRestarts => [.. Restarts.Where(r => r.Namespace == PlatformWorkloads.Namespace)];

    public IReadOnlyList<ObjectRef> SystemRestarts => [.. Restarts.Where(r => r.Namespace != PlatformWorkloads.Namespace)];

    /// <summary>deployer can patch Deployments in tesslate only; applying, ConfigMap writes and kube-system need admin.</summary>
    public TeamRole LeastRole => ApplyManifests || SyncLitellmConfig || SystemRestarts.Count > 0 ? TeamRole.Admin : TeamRole.Deployer;

    /// <summary>Everything the run will do, for the permission preflight (the apply plan's own needs included when given).</summary>
    public IReadOnlyList<PermissionRequirement> Permissions(ApplyPlan? apply = null) =>
        [.. (apply is null ? [] : PermissionPreflight.ForApply(apply))
            .Concat(SyncLitellmConfig ? ConfigMapFiles.Permissions(PlatformWorkloads.Namespace) : [])
            .Concat(PermissionPreflight.ForRollouts(Restarts, restart: true))
            .Distinct()];

    public string PermissionFix => LeastRole == TeamRole.Admin
        ? "This Reload applies manifests, writes a ConfigMap or restarts kube-system workloads: run it with --role admin."
        : "Restarting tesslate workloads needs --role deployer or above.";

    public override string ToString() =>
        (ApplyManifests ? "apply the overlay, then " : "") + (SyncLitellmConfig ? $"sync ConfigMap {PlatformWorkloads.LitellmConfigMap}, then " : "")
        + "restart " + string.Join(", ", Restarts);
}
