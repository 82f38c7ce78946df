using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Registry;
using Tesslate.Build.Testing;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Platform;

/// <summary>
/// The operations stage on its own, without Build: made from the beta settings, the two stages it builds on and a
/// few functions, rendering the repository's real overlays with kubectl kustomize. Bad input stops it before it
/// connects to a cluster or takes the deploy lock.
/// </summary>
public sealed class OperationsStageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static EnvironmentSettings Beta => StageTestBed.Beta;

    /// <summary>The stage, and how often it asked for the cluster (every side effect starts there: lock, history, workloads).</summary>
    private static (OperationsStage Stage, Func<int> Connections) Stage(IReadOnlyList<string> workloads, int? replicas = null)
    {
        var log = new LogCapture();
        var connections = 0;
        Task<KubeCluster> Connect(CancellationToken _)
        {
            Interlocked.Increment(ref connections);
            throw new InvalidOperationException("bad input must stop the operation before it reaches the cluster");
        }
        var context = new StageContext(log.Logger, new RunReport(), DryRun: false);
        var deploy = new ReleaseOperation(ReleaseKind.Deploy);
        var cluster = StageTestBed.Cluster(context, new ProcessRunner(log.Logger), Connect, deploy: deploy);
        var operations = new Dictionary<ReleaseKind, ReleaseOperation> { [ReleaseKind.Deploy] = deploy };
        ReleaseOperation Operation(ReleaseKind kind) => operations.TryGetValue(kind, out var known) ? known : operations[kind] = new ReleaseOperation(kind);
        var holder = new LockHolder("tester", "here", "run-1");
        var records = new ReleaseRecordStage(Beta, new ReleaseRecordInputs(holder, cluster, Connect, () => null, StageTestBed.Forbidden<RegistryClient>("no registry in this test"),
            _ => Task.FromResult(false), (_, _) => Task.CompletedTask, _ => Task.FromResult(new ReleaseStamp("run-1", "tester", "here", null)), _ => Task.FromResult<ApplicationCommit?>(null),
            Operation, new Once<HeldDeployLock?>(), new RunCleanup(), ChangesCluster: () => true, DeployPlanned: () => false, StoppedForApproval: () => false,
            DeploymentSucceeded: _ => Task.CompletedTask), context);
        var stage = new OperationsStage(Beta, new OperationsInputs(RepositoryPaths.Root, cluster, records, Connect, Operation,
            _ => Task.FromResult(new ReleaseStamp("run-1", "tester", "here", null)), (_, _) => throw new InvalidOperationException("bad input must stop the operation before any approval"),
            StageTestBed.Forbidden<RegistryClient>("no registry in this test"))
        { Workloads = workloads, Replicas = replicas }, context);
        return (stage, () => Volatile.Read(ref connections));
    }

    [Fact]
    public async Task Scale_of_a_DaemonSet_is_refused_before_the_stage_reaches_the_cluster_or_its_lock()
    {
        var (stage, connections) = Stage([PlatformWorkloads.CsiNode.Name], replicas: 2);

        var refused = await Assert.ThrowsAsync<UsageException>(() => stage.ScaleAsync(Ct));

        Assert.Contains(PlatformWorkloads.CsiNode.Name, refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, connections());
    }

    [Fact]
    public async Task Reload_of_an_unknown_workload_names_it_and_what_exists_before_the_stage_reaches_the_cluster_or_its_lock()
    {
        var (stage, connections) = Stage(["no-such-workload"]);

        var refused = await Assert.ThrowsAsync<UsageException>(() => stage.ReloadAsync(Ct));

        Assert.Contains("no-such-workload", refused.Message, StringComparison.Ordinal);
        Assert.Contains("backend", refused.Message[refused.Message.IndexOf("Known:", StringComparison.Ordinal)..], StringComparison.Ordinal);
        Assert.Equal(0, connections());
    }
}
