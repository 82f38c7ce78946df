using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Infrastructure;

namespace Tesslate.Build.Tests.Platform;

/// <summary>
/// The stages on their own, without Build: made from the beta settings, the repository's real catalog and overlays
/// (rendered with kubectl kustomize) and functions that fail the test when asked for what it must not reach.
/// </summary>
internal static class StageTestBed
{
    public static readonly EnvironmentSettings Beta = EnvironmentTable.Defaults(DeployEnvironment.Beta);

    public static Func<T> Forbidden<T>(string why) => () => throw new InvalidOperationException(why);

    /// <summary>The beta cluster stage: its cluster from <paramref name="connect"/>, its digests from <paramref name="report"/> only (never the registry).</summary>
    public static ClusterStage Cluster(StageContext context, IProcessRunner runner, Func<CancellationToken, Task<KubeCluster>> connect, BuildReport? report = null,
        ReleaseOperation? deploy = null)
    {
        var catalog = ImageCatalog.Load(InfrastructureLayout.Full("images"));
        return new ClusterStage(Beta, new ClusterStageInputs(RepositoryPaths.Root, Beta.ComputeOverlay, TeamRole.Admin, [], () => catalog, connect,
            new KustomizeRenderer(runner), Forbidden<RegistryClient>("every digest comes from the build report: the registry must not be asked"),
            _ => Task.FromResult(false), () => report, () => null, deploy ?? new ReleaseOperation(ReleaseKind.Deploy),
            (_, _) => throw new InvalidOperationException("nothing to roll back")), context);
    }
}
