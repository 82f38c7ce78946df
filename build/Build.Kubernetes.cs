using k8s;
using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

// The cluster: the run's connection to it, and the cluster release stage its targets call.
internal sealed partial class Build
{
    /// <summary>The connection to the cluster this run acts on now, if one was made (a cluster_name adopted from Terraform's outputs gets its own).</summary>
    private KubeCluster? ConnectedCluster => _run.Clusters.GetValueOrDefault(ClusterKey)?.ValueOrDefault;

    private string ClusterKey => Environment == DeployEnvironment.Local ? $"context:{KubeContext}" : Settings.ClusterName ?? "";

    /// <summary>The cluster for this run: in memory, never through (or into) the user's kubeconfig's current context;
    /// connected once per cluster name by whichever target needs it first.</summary>
    private Task<KubeCluster> ClusterAsync(CancellationToken cancellationToken) =>
        _run.Clusters.GetOrAdd(ClusterKey, _ => new()).GetAsync(() => ConnectAsync(cancellationToken));

    private async Task<KubeCluster> ConnectAsync(CancellationToken cancellationToken)
    {
        KubernetesClientConfiguration configuration;
        string name;
        if (Environment == DeployEnvironment.Local)
        {
            var paths = EnvironmentVariables.GetValueOrDefault("KUBECONFIG") is { Length: > 0 } kubeconfig
                ? kubeconfig.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                : KubeContexts.DefaultPaths();
            configuration = KubeContexts.Load(KubeContext, paths, "--kube-context <name>");
            name = configuration.CurrentContext ?? KubeContext ?? "current context";
        }
        else
        {
            var (role, roleSession, _) = await ClusterSessionAsync(cancellationToken);
            var cluster = await Diagnosed(() => roleSession.Eks.DescribeClusterAsync(Settings.ClusterName!, cancellationToken));
            configuration = EksKubernetesAccess.ClientConfiguration(cluster, roleSession.EksTokens(Settings.ClusterName!));
            name = $"{Settings.ClusterName} as {role.Role}";
        }
        var connected = KubeCluster.Connect(configuration, name, BeforeChangeAsync);
        Cleanup.Register("close the cluster connection", () => { connected.Dispose(); return Task.CompletedTask; });
        return connected;
    }

    /// <summary>The compute layer's overlay: --compute-overlay, else the environment's.</summary>
    private string? ComputeOverlayPath => ComputeOverlay ?? Settings.ComputeOverlay;

    private IReadOnlyList<VolumeAllowance> Allowances => [.. AllowVolumeChange.SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(ReleaseProblems.Allowance)];

    /// <summary>
    /// The environment's cluster release: created once per run from the bound settings (its cluster comes through
    /// <see cref="ClusterAsync"/>, so a cluster_name adopted from Terraform's outputs reaches it as a new connection).
    /// </summary>
    private ClusterStage ClusterRelease => _run.ClusterRelease.Get(() => new ClusterStage(BoundSettings,
        new ClusterStageInputs(RootDirectory, ComputeOverlayPath, Role, Allowances, () => Catalog, ClusterAsync, new KustomizeRenderer(Runner, Tools.Kubectl),
            () => RegistryClient, RegistryReachableAsync, CurrentBuildReport, () => _run.ImagePlan.ValueOrDefault, DeployRelease,
            (operation, ct) => ReleaseRecords.RollBackThisRunAsync(operation, ct))
        {
            RolloutTimeout = RolloutTimeout,
            RollbackOnFailure = RollbackOnFailure,
            SeedTimeout = SeedTimeout,
            SeedFailure = SeedFailure,
        },
        new StageContext(Log, Report, IsDryRun)));

    private async Task ApplyKustomizeAsync(CancellationToken cancellationToken)
    {
        if (await ClusterRelease.ApplyAsync(cancellationToken) is { } applied)
            _run.Applied.Set(applied);
    }

    private async Task RestartRolloutsAsync(CancellationToken cancellationToken) =>
        _run.Restarted.Set(await ClusterRelease.RestartAsync(_run.Applied.ValueOrDefault, cancellationToken));

    private Task WaitForRolloutsAsync(CancellationToken cancellationToken) =>
        ClusterRelease.WaitAsync(_run.Applied.ValueOrDefault, _run.Restarted.ValueOrDefault, _run.RolledOut.Set, cancellationToken);

    private Task SeedAppsAsync(CancellationToken cancellationToken) => ClusterRelease.SeedAsync(_run.RolledOut.ValueOrDefault, cancellationToken);
}
