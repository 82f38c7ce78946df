using System.Collections.Concurrent;
using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.GitHub;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Registry;
using Tesslate.Build.Terraform;

namespace Tesslate.Build;

internal sealed partial class Build
{
    private readonly RunState _run = new();

    /// <summary>The bound environment and where its region came from (Whoami shows it).</summary>
    private sealed record BoundEnvironment(EnvironmentSettings Settings, string RegionSource);

    /// <summary>The session the cluster is reached with, and the team role it acts as.</summary>
    private sealed record ClusterSession(ClusterRole Role, AwsSession Session, bool AlreadyTheRole);

    /// <summary>
    /// Everything one run learns as it goes, in one place. Sessions and clients are created once, by whichever target
    /// needs them first (<see cref="Once{T}"/>); results pass to later targets as values written once by the target
    /// named (<see cref="Handoff{T}"/>). Targets run side by side: nothing here is rewritten, nothing is unsynchronised.
    /// Each member is made on first use (one instance wins a race, nobody sees the other): --help and --plan touch
    /// few of them, and each is a generic type the runtime would load at start (docs/bootstrap.md, "Start").
    /// </summary>
    private sealed class RunState
    {
        // ── The environment ───────────────────────────────────────────────────────────────────────────────────────
        public Once<BoundEnvironment> Environment => LazyInitializer.EnsureInitialized(ref field, static () => new());

        /// <summary>The cluster name Terraform's outputs reported in this run: a new value for later targets.</summary>
        public Once<string> AdoptedClusterName => LazyInitializer.EnsureInitialized(ref field, static () => new());

        // ── AWS ───────────────────────────────────────────────────────────────────────────────────────────────────
        public Once<AwsSession> Aws => LazyInitializer.EnsureInitialized(ref field, static () => new());
        public Once<EcrCredentials> EcrCredentials => LazyInitializer.EnsureInitialized(ref field, static () => new());
        public Once<ClusterSession> ClusterSession => LazyInitializer.EnsureInitialized(ref field, static () => new());

        // ── Source and images ─────────────────────────────────────────────────────────────────────────────────────
        public Once<ApplicationCommit?> ApplicationCommit => LazyInitializer.EnsureInitialized(ref field, static () => new());
        public Once<ImageCatalog> Catalog => LazyInitializer.EnsureInitialized(ref field, static () => new());
        public Once<IReadOnlyList<ImageDefinition>> SelectedImages => LazyInitializer.EnsureInitialized(ref field, static () => new());
        public Once<RegistryClient> Registry => LazyInitializer.EnsureInitialized(ref field, static () => new());
        public Once<bool> RegistryReachable => LazyInitializer.EnsureInitialized(ref field, static () => new());
        public Once<ImageBuildPlan> ImagePlan => LazyInitializer.EnsureInitialized(ref field, static () => new());
        public Once<BuildReport?> GivenBuildReport => LazyInitializer.EnsureInitialized(ref field, static () => new());
        public Handoff<BuildReport> BuiltImages => LazyInitializer.EnsureInitialized(ref field, static () => new(nameof(Build.BuildImages)));

        // ── Terraform ─────────────────────────────────────────────────────────────────────────────────────────────
        public Once<TerraformStage> Terraform => LazyInitializer.EnsureInitialized(ref field, static () => new());
        public Handoff<TerraformPlan> ReleaseTerraformPlan => LazyInitializer.EnsureInitialized(ref field, static () => new(nameof(Build.ReleasePlan)));

        // ── The cluster ───────────────────────────────────────────────────────────────────────────────────────────
        /// <summary>One connection per cluster (a cluster_name adopted from Terraform's outputs gets its own).</summary>
        public ConcurrentDictionary<string, Once<KubeCluster>> Clusters => LazyInitializer.EnsureInitialized(ref field, static () => new(StringComparer.Ordinal));

        /// <summary>The cluster release stage (desired state, guard, apply, rollouts, seeds), created once per run.</summary>
        public Once<ClusterStage> ClusterRelease => LazyInitializer.EnsureInitialized(ref field, static () => new());

        public Handoff<AppliedRelease> Applied => LazyInitializer.EnsureInitialized(ref field, static () => new(nameof(Build.KustomizeApply)));
        public Handoff<IReadOnlyList<ObjectRef>> Restarted => LazyInitializer.EnsureInitialized(ref field, static () => new(nameof(Build.RolloutRestart)));
        public Handoff<RolloutWaitReport> RolledOut => LazyInitializer.EnsureInitialized(ref field, static () => new(nameof(Build.WaitRollout)));

        // ── The release record ────────────────────────────────────────────────────────────────────────────────────
        /// <summary>The release record stage (lock, history, promotion, rollback), created once per run.</summary>
        public Once<ReleaseRecordStage> ReleaseRecords => LazyInitializer.EnsureInitialized(ref field, static () => new());

        /// <summary>The day-two operations stage (Reload, DeployCompute and the operations around them), created once per run.</summary>
        public Once<OperationsStage> Operations => LazyInitializer.EnsureInitialized(ref field, static () => new());

        public Once Preparation => LazyInitializer.EnsureInitialized(ref field, static () => new());

        /// <summary>The run's one approval, asked by whoever needs it first.</summary>
        public Once Approval => LazyInitializer.EnsureInitialized(ref field, static () => new());

        /// <summary>The deploy lock this run holds (null: a dry run, or nothing to lock yet).</summary>
        public Once<HeldDeployLock?> DeployLock => LazyInitializer.EnsureInitialized(ref field, static () => new());

        /// <summary>The GitHub Deployment a Deploy reports to (null: not a Deploy, or a dry run).</summary>
        public Once<DeploymentRecorder?> Deployment => LazyInitializer.EnsureInitialized(ref field, static () => new());

        private ConcurrentDictionary<ReleaseKind, ReleaseOperation>? _operations;

        /// <summary>What one release operation of this run (Deploy, Reload, DeployCompute) keeps for its record.</summary>
        public ReleaseOperation Operation(ReleaseKind kind) =>
            LazyInitializer.EnsureInitialized(ref _operations, static () => new()).GetOrAdd(kind, k => new ReleaseOperation(k));
    }
}
