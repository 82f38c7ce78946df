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
    /// </summary>
    private sealed class RunState
    {
        // ── The environment ───────────────────────────────────────────────────────────────────────────────────────
        public Once<BoundEnvironment> Environment { get; } = new();

        /// <summary>The cluster name Terraform's outputs reported in this run: a new value for later targets.</summary>
        public Once<string> AdoptedClusterName { get; } = new();

        // ── AWS ───────────────────────────────────────────────────────────────────────────────────────────────────
        public Once<AwsSession> Aws { get; } = new();
        public Once<EcrCredentials> EcrCredentials { get; } = new();
        public Once<ClusterSession> ClusterSession { get; } = new();

        // ── Source and images ─────────────────────────────────────────────────────────────────────────────────────
        public Once<ApplicationCommit?> ApplicationCommit { get; } = new();
        public Once<ImageCatalog> Catalog { get; } = new();
        public Once<IReadOnlyList<ImageDefinition>> SelectedImages { get; } = new();
        public Once<RegistryClient> Registry { get; } = new();
        public Once<bool> RegistryReachable { get; } = new();
        public Once<ImageBuildPlan> ImagePlan { get; } = new();
        public Once<BuildReport?> GivenBuildReport { get; } = new();
        public Handoff<BuildReport> BuiltImages { get; } = new(nameof(Build.BuildImages));

        // ── Terraform ─────────────────────────────────────────────────────────────────────────────────────────────
        public Once<TerraformStage> Terraform { get; } = new();
        public Handoff<TerraformPlan> ReleaseTerraformPlan { get; } = new(nameof(Build.ReleasePlan));

        // ── The cluster ───────────────────────────────────────────────────────────────────────────────────────────
        /// <summary>One connection per cluster (a cluster_name adopted from Terraform's outputs gets its own).</summary>
        public ConcurrentDictionary<string, Once<KubeCluster>> Clusters { get; } = new(StringComparer.Ordinal);

        /// <summary>The cluster release stage (desired state, guard, apply, rollouts, seeds), created once per run.</summary>
        public Once<ClusterStage> ClusterRelease { get; } = new();

        public Handoff<AppliedRelease> Applied { get; } = new(nameof(Build.KustomizeApply));
        public Handoff<IReadOnlyList<ObjectRef>> Restarted { get; } = new(nameof(Build.RolloutRestart));
        public Handoff<RolloutWaitReport> RolledOut { get; } = new(nameof(Build.WaitRollout));

        /// <summary>Objects this run took over from client-side kubectl apply; targets add to it as they apply.</summary>
        public ConcurrentQueue<AppliedObject> TakenOver { get; } = new();

        // ── The release record ────────────────────────────────────────────────────────────────────────────────────
        /// <summary>The release record stage (lock, history, promotion, rollback), created once per run.</summary>
        public Once<ReleaseRecordStage> ReleaseRecords { get; } = new();

        public Once Preparation { get; } = new();

        /// <summary>The run's one approval, asked by whoever needs it first.</summary>
        public Once Approval { get; } = new();

        /// <summary>The deploy lock this run holds (null: a dry run, or nothing to lock yet).</summary>
        public Once<HeldDeployLock?> DeployLock { get; } = new();

        /// <summary>The GitHub Deployment a Deploy reports to (null: not a Deploy, or a dry run).</summary>
        public Once<DeploymentRecorder?> Deployment { get; } = new();

        private readonly ConcurrentDictionary<ReleaseKind, ReleaseOperation> _operations = new();

        /// <summary>What one release operation of this run (Deploy, Reload, DeployCompute) keeps for its record.</summary>
        public ReleaseOperation Operation(ReleaseKind kind) => _operations.GetOrAdd(kind, k => new ReleaseOperation(k));
    }
}
