using Tesslate.Build.Engine;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

/// <summary>
/// The Tesslate release, as a target graph. This file is the table of contents: parameters, then every target with
/// its dependencies and a one-line description; the work lives in the partial files by concern.
/// </summary>
internal sealed partial class Build : BuildBase
{
    public static Task<int> Main(string[] args) => BuildBase.Execute(args, static () => new Build());

    protected override string EnvironmentPrefix => "TESSLATE_";

    protected override IReadOnlyList<string> DefaultTargets => [nameof(Doctor)];

    protected override bool ApprovedUpFront => Approve;

    // ── Where ─────────────────────────────────────────────────────────────────────────────────────────────────
    [Parameter("The environment to act on.")]
    readonly DeployEnvironment Environment = DeployEnvironment.Local;

    [Parameter("A checkout of the application repository (TesslateAI/Studio layout). local falls back to tests/fixtures/app.")]
    readonly string? SourceRoot;

    [Parameter("The application commit to build and deploy: a branch, tag or full SHA. Locally the source root must be at that commit (default: whatever it has checked out).")]
    readonly string? ApplicationRef;

    [Parameter("Push to this registry (host[:port]) instead of the environment's (local: localhost:5000).")]
    readonly string? Registry;

    [Parameter($"AWS account id the environment lives in (default: Tesslate's, {EnvironmentTable.TesslateAccountId}).")]
    readonly string? AwsAccountId;

    [Parameter("AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then us-east-1).")]
    readonly string? AwsRegion;

    [Parameter("AWS profile for credentials (default: the SDK's default chain).")]
    readonly string? AwsProfile;

    [Parameter("EKS cluster name (default: tesslate-<environment>-eks).")]
    readonly string? ClusterName;

    [Parameter("Public domain of the environment (used by Verify and deployment records).")]
    readonly string? Domain;

    [Parameter("S3 bucket of the Terraform state (the real name is not public).")]
    readonly string? StateBucket;

    [Parameter("EKS team role for cluster access; AWS_EKS_ROLE_ARN overrides it with a full ARN.")]
    readonly TeamRole Role = TeamRole.Admin;

    [Parameter("Kube context for local (default: the current context; never changed).")]
    readonly string? KubeContext;

    // ── Images ────────────────────────────────────────────────────────────────────────────────────────────────
    [Parameter("Images to build (default: backend, frontend, devserver): --images backend,ast or --images backend ast.")]
    readonly string[] Images = [];

    [Parameter("A buildx builder to build on (e.g. a remote BuildKit).")]
    readonly string? Builder;

    [Parameter("Build without the layer cache.")]
    readonly bool NoCache;

    [Parameter("Legacy flag: the layer cache is on by default; accepted and ignored.")]
    readonly bool Cached;

    [Parameter("Build even when an image with the same fingerprint is already in the registry.")]
    readonly bool ForceBuild;

    [Parameter("How many images build at once.", Positive = true)]
    readonly int BuildParallelism = 4;

    [Parameter("Per-image build timeout.", Positive = true)]
    readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(30);

    [Parameter("Read the build report from this file instead of building (a CI deploy job after a build job); BuildImages writes it there too.")]
    readonly string? BuildReport;

    [Parameter("BuildImages alone: move the environment tag to the new images (Deploy does this after its rollouts succeed).")]
    readonly bool Promote;

    // ── Terraform ─────────────────────────────────────────────────────────────────────────────────────────────
    [Parameter("A local tfvars file instead of the one in Secrets Manager (only read, never moved or deleted).")]
    readonly string? Tfvars;

    [Parameter("Limit Terraform to these addresses (-target), e.g. module.eks for the documented Helm-timeout recovery.")]
    readonly string[] TfTarget = [];

    [Parameter("How long Terraform waits for the state lock.", Positive = true)]
    readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(5);

    [Parameter("Arguments for TerraformState: list | show ADDRESS | rm ADDRESS.")]
    readonly string[] StateArgs = [];

    // ── Kubernetes ────────────────────────────────────────────────────────────────────────────────────────────
    [Parameter("Rollout deadline per workload (default: derived from each workload, at least 300s).", Positive = true)]
    readonly TimeSpan? RolloutTimeout;

    [Parameter("If a rollout fails, return every workload this run changed to the digests it ran before.")]
    readonly bool RollbackOnFailure;

    [Parameter("How long SeedApps may run.", Positive = true)]
    readonly TimeSpan SeedTimeout = TimeSpan.FromMinutes(10);

    [Parameter("What a failing seed does to the run.")]
    readonly SeedFailurePolicy SeedFailure = SeedFailurePolicy.Warn;

    [Parameter("Workloads for Reload, Scale, Logs and Rollback (legacy short names accepted: backend, worker, pg …).")]
    readonly string[] Workloads = [];

    [Parameter("Replica count for Scale.", Minimum = 0)]
    readonly int? Replicas;

    [Parameter("Take the deploy lock even though another run holds it.")]
    readonly bool BreakLock;

    [Parameter("How long the deploy lock outlives its holder's last renewal (renewed every third of it): longer for flaky connections.", Positive = true)]
    readonly TimeSpan DeployLockLease = TimeSpan.FromSeconds(90);

    [Parameter("Rollback to the image tagged git-<sha> instead of the previous release.")]
    readonly string? ToTag;

    [Parameter("Rollback to this release id (see Status).")]
    readonly string? Release;

    [Parameter("Let a release change where this object's data lives (a workload's claim or host path swapped or unmounted, a claim grown): Kind/name or Kind/namespace/name; the release plan lists it under the approval.")]
    readonly string[] AllowVolumeChange = [];

    [Parameter("The compute overlay (btrfs CSI driver, Volume Hub, image pre-cache) relative to the root (default: the environment's; local has none).")]
    readonly string? ComputeOverlay;

    // ── Approval, CI ──────────────────────────────────────────────────────────────────────────────────────────
    [Parameter("Approve the release plan without a prompt (CI, after the environment's reviewers approved).")]
    readonly bool Approve;

    [Parameter("GitHub token for deployment records (default: GITHUB_TOKEN, then `gh auth token`).")]
    [Secret]
    readonly string? GitHubToken;

    [Parameter("GenerateSchema / GenerateWorkflows: fail with a diff instead of writing when files are stale.")]
    readonly bool Check;

    // ── The release ────────────────────────────────────────────────────────────────────────────────────────────────
    // What each target does is declared with .Is(...) (build/Platform/TargetFacts.cs); from it the pipeline derives
    // Preflight's tools and cluster probe, what the run changes (lock, permissions, approval), the refusal on shared,
    // and for Guarded targets ReleasePlan's permission check, deploy lock and approval before the target, once per run,
    // even under --skip ReleasePlan.
    Target Doctor => _ => _
        .Description("Check every prerequisite of the chosen environment and print a table with fixes.")
        .Executes(RunDoctorAsync);

    Target Whoami => _ => _
        .Description("Print the AWS identity, account, region, and the role each later target will use.")
        .Executes(WhoamiAsync);

    Target Preflight => _ => _
        .Description("Before any side effect: the tools the planned targets start; for AWS, the identity's account and the ECR repositories and tfvars secret the run needs; for cluster targets, Doctor's role and API server probes.")
        .Safeguard("it checks the account, tools and cluster access that protect the environment")
        .Executes(RunPreflightAsync);

    Target SubmodulesInit => _ => _
        .Description("Sync and initialise the application's git submodules (recursively).")
        .Is(WorksOnImages, Starts("git"))
        .OnlyWhenDynamic(SourceHasGitmodules, "no .gitmodules in the source root: no submodules to initialise")
        .Executes(InitSubmodulesAsync);

    Target EcrLogin => _ => _
        .Description("Log Docker in to the environment's ECR registry, or --registry, with an ECR token (password through stdin).")
        .Is(WorksOnImages, Starts("docker", when: () => Settings.UsesEcr))
        .DependsOn(Preflight)
        .After(SubmodulesInit)
        .OnlyWhen(() => Settings.UsesEcr, "no ECR for this environment (local)")
        .Executes(LoginToEcrAsync);

    Target ReleasePlan => _ => _
        .Description("Read-only preparation of a release (Terraform plan, what will change), then one approval when needed.")
        .DependsOn(Preflight)
        .After(EcrLogin, SubmodulesInit)
        .Executes(PrepareReleaseAsync);

    Target BuildImages => _ => _
        .Description("Build and push the selected images in parallel; reuse what did not change.")
        .Is(WorksOnImages, Guarded, Starts("git", when: () => SourceRootInEffect() is not null), Starts("docker", when: () => BuildReport is null), new UsesCluster(() => Promote ? ClusterUse.Changes : ClusterUse.None))
        .DependsOn(SubmodulesInit, EcrLogin, ReleasePlan)
        .Requires(() => ImagesToBuild)
        .Executes(BuildImagesAsync);

    Target TerraformApply => _ => _
        .Description("Plan the environment's stack and apply exactly that plan, when it has changes.")
        .Is(AppliesTerraform.Instance, Guarded, StartsTerraform)
        .DependsOn(ReleasePlan)
        .OnlyWhen(() => Settings.RunsTerraform, "no Terraform for this environment")
        .Before(ClusterOperations)
        .PartialWorkOnInterrupt("Terraform was interrupted once and asked to stop gracefully; the state may be partially applied: run TerraformPlan to see what is left")
        .Executes(ApplyTerraformAsync);

    Target KustomizeApply => _ => _
        .Description("Render the overlay, pin every image to its digest, apply it server-side in dependency order.")
        .Is(ChangesCluster, Guarded, Starts("kubectl"))
        .DependsOn(ReleasePlan, BuildImages, TerraformApply)
        .Executes(ApplyKustomizeAsync);

    Target RolloutRestart => _ => _
        .Description("Restart the workloads that reference an image by tag (pinned digests roll by themselves).")
        .Is(ChangesCluster, Guarded)
        .DependsOn(KustomizeApply)
        .Executes(RestartRolloutsAsync);

    Target WaitRollout => _ => _
        .Description("Wait for every changed workload to roll out, diagnosing failing pods.")
        .Is(ReadsCluster)
        .DependsOn(RolloutRestart)
        .Executes(WaitForRolloutsAsync);

    Target SeedApps => _ => _
        .Description("Seed the apps registry in a Ready pod of the new backend (only when the backend image was deployed).")
        .Is(ChangesCluster, Guarded)
        .DependsOn(WaitRollout)
        .Executes(SeedAppsAsync);

    Target Deploy => _ => _
        .Description("The whole release: build, Terraform, apply, roll out, seed, then promote the environment tags.")
        .Is(ChangesCluster, Guarded)
        // Every stage by name, so that --skip of one stage skips that stage only. SubmodulesInit and EcrLogin serve
        // BuildImages alone, so `--skip BuildImages` (the CI deploy job, deploy-k8s) skips them too.
        .DependsOn(ReleasePlan, BuildImages, TerraformApply, KustomizeApply, RolloutRestart, WaitRollout, SeedApps)
        .Executes(PromoteAndRecordAsync);

    // ── Terraform ──────────────────────────────────────────────────────────────────────────────────────────────────
    Target TerraformInit => _ => _
        .Description("terraform init -reconfigure with the environment's backend file.")
        .Is(StartsTerraform)
        .DependsOn(Preflight)
        .Requires(() => Settings.RunsTerraform, "this environment has no Terraform stack.")
        .Executes(InitTerraformAsync);

    Target TerraformPlan => _ => _
        .Description("Plan the environment's stack; summarise adds, changes, destroys and replacements.")
        .Is(StartsTerraform)
        .DependsOn(Preflight)
        .Requires(() => Settings.RunsTerraform, "this environment has no Terraform stack.")
        .Executes(PlanTerraformAsync);

    Target TerraformDestroy => _ => _
        .Description("Destroy the environment's stack (typed confirmation 'destroy <environment>').")
        .Is(StartsTerraform)
        .DependsOn(Preflight)
        .Requires(() => Settings.RunsTerraform, "this environment has no Terraform stack.")
        .Requires(() => Environment != DeployEnvironment.Production || Approve, "TerraformDestroy on production needs --approve as well as the typed confirmation 'destroy production' on a terminal.")
        .PartialWorkOnInterrupt("Terraform was interrupted once; the stack may be partially destroyed: run TerraformPlan to see what is left")
        .Executes(DestroyTerraformAsync);

    Target TerraformOutput => _ => _
        .Description("Print the stack's outputs (terraform output -json, parsed); later targets of the run use its cluster_name.")
        .Is(StartsTerraform)
        .DependsOn(Preflight)
        .Before(ClusterOperations)
        .Requires(() => Settings.RunsTerraform, "this environment has no Terraform stack.")
        .Executes(ShowTerraformOutputAsync);

    Target TerraformState => _ => _
        .Description("terraform state list | show ADDRESS | rm ADDRESS (--state-args; rm asks for confirmation).")
        .Is(StartsTerraform)
        .DependsOn(Preflight)
        .Requires(() => Settings.RunsTerraform, "this environment has no Terraform stack.")
        .Executes(RunTerraformStateAsync);

    Target TfvarsDownload => _ => _
        .Description("Secrets Manager tesslate/terraform/<env> → the stack's terraform.<env>.tfvars (0600; asks before replacing a local file).")
        .DependsOn(Preflight)
        .Requires(() => Settings.RunsTerraform, "this environment has no Terraform stack.")
        .Executes(DownloadTfvarsAsync);

    Target TfvarsUpload => _ => _
        .Description("The stack's tfvars (or --tfvars) → Secrets Manager, after showing which variable names were added, removed or changed (never values).")
        .DependsOn(Preflight)
        .Requires(() => Settings.RunsTerraform, "this environment has no Terraform stack.")
        .Executes(UploadTfvarsAsync);

    Target TfvarsView => _ => _
        .Description("Print the tfvars in Secrets Manager with sensitive values masked.")
        .DependsOn(Preflight)
        .Requires(() => Settings.RunsTerraform, "this environment has no Terraform stack.")
        .Executes(ViewTfvarsAsync);

    // ── Operations ─────────────────────────────────────────────────────────────────────────────────────────────────
    Target Rollback => _ => _
        .Description("Return workloads (all, or --workloads) to the digests of the previous release, a --release id, or --to-tag git-<sha>; restores recorded digests only (no other manifest change); recorded, tags moved back.")
        .Is(ChangesCluster, Starts("kubectl"))
        .DependsOn(Preflight)
        .Executes(RollbackAsync);

    Target Reload => _ => _
        .Description("No --workloads: apply the overlay pinned as Deploy pins it and restart backend, frontend, worker. With --workloads: restart only those, keeping their pinned templates (legacy short names accepted). Recorded.")
        .Is(new UsesCluster(() => Workloads.Length == 0 ? ClusterUse.Changes : ClusterUse.Reads), Starts("kubectl"))
        .DependsOn(Preflight)
        .Executes(ReloadAsync);

    Target DeployCompute => _ => _
        .Description("Release the compute layer alone, pinned: all but the Volume Hub, the CSI DaemonSet rolled to completion, then the Volume Hub; recorded, tags moved after success.")
        .Is(ChangesCluster, Starts("kubectl"))
        .DependsOn(Preflight)
        .Requires(() => !NotShared() || ComputeOverlayPath is not null, "local has no compute layer: the btrfs CSI driver and the Volume Hub run on beta and production.",
            "Use --environment beta or production, or name a compute overlay to apply anyway with --compute-overlay <dir>.")
        .Executes(DeployComputeAsync);

    Target SafeShutdown => _ => _
        .Description("Scale the user projects (proj-* workloads), the worker and the backend to zero, recording every count for Resume.")
        .Is(ChangesCluster)
        .DependsOn(Preflight)
        .Executes(SafeShutdownAsync);

    Target Resume => _ => _
        .Description("Restore the replica counts the last SafeShutdown recorded.")
        .Is(ChangesCluster)
        .DependsOn(Preflight)
        .Executes(ResumeAsync);

    Target Status => _ => _
        .Description("Per workload: digests and the git sha they came from, ready/desired; the current release and the deploy lock.")
        .Is(ReadsCluster, Starts("kubectl"))
        .DependsOn(Preflight)
        .Executes(StatusAsync);

    Target Verify => _ => _
        .Description("HTTP check of the public URL and its health endpoint, and the wildcard certificate's Ready condition (with cert-manager diagnosis).")
        .Is(ReadsCluster)
        .DependsOn(Preflight)
        .Executes(VerifyAsync);

    Target Migrate => _ => _
        .Description("alembic upgrade head in a Ready backend pod (detects multiple heads and says how to merge them).")
        .Is(ChangesCluster)
        .DependsOn(Preflight)
        .Executes(MigrateAsync);

    Target Scale => _ => _
        .Description("Scale --workloads to --replicas (recorded in the release history).")
        .Is(ChangesCluster, Starts("kubectl"))
        .DependsOn(Preflight)
        .Requires(() => Workloads)
        .Requires(() => Replicas)
        .Executes(ScaleAsync);

    Target Logs => _ => _
        .Description("Follow the logs of every pod of --workloads, prefixed [pod/container], until Ctrl-C.")
        .Is(ReadsCluster, Starts("kubectl"))
        .DependsOn(Preflight)
        .Requires(() => Workloads)
        .Executes(FollowLogsAsync);

    Target PruneProjectNamespaces => _ => _
        .Description("List proj-* namespaces with no project behind them (no pods or workloads, older than 1h); delete after confirmation.")
        .Is(ChangesCluster)
        .DependsOn(Preflight)
        .Executes(PruneProjectNamespacesAsync);

    Target Kubeconfig => _ => _
        .Description("For humans: write a tesslate-<environment>-eks context into your kubeconfig (the pipeline itself never does).")
        .DependsOn(Preflight)
        .Requires(() => Settings.ClusterName is not null && Environment != DeployEnvironment.Local, "this environment has no EKS cluster.")
        .Executes(WriteKubeconfigAsync);

    // ── Generated files ────────────────────────────────────────────────────────────────────────────────────────────
    Target GenerateSchema => _ => _
        .Description("Write .nuke/build.schema.json from the targets and parameters (--check: fail if stale).")
        .Executes(GenerateSchemaAsync);

    Target GenerateBackendFiles => _ => _
        .Description("Write terraform/*/backend-<environment>.hcl from the environment table (--check: fail if stale).")
        .Executes(GenerateBackendFilesAsync);

    Target GenerateWorkflows => _ => _
        .Description("Write .github/workflows from the declarations in build/Platform/Workflows.cs, validated by GitHub's parser (--check: fail with a diff if stale).")
        .Executes(GenerateWorkflowsAsync);

    // Operations on the cluster run after the Terraform targets of the same run, which may rename the cluster.
    private Target[] ClusterOperations => [Rollback, Reload, DeployCompute, SafeShutdown, Resume, Status, Verify, Migrate, Scale, Logs, PruneProjectNamespaces, Kubeconfig];

    /// <summary>The environment as bound from the parameters, with the cluster name Terraform's outputs reported in this run (a new value, not a rewrite).</summary>
    private EnvironmentSettings Settings => _run.AdoptedClusterName.ValueOrDefault is { } adopted ? BoundSettings with { ClusterName = adopted } : BoundSettings;

    private EnvironmentSettings BoundSettings => _run.Environment.Get(BindEnvironment).Settings;

    private static readonly ITargetFact WorksOnImages = UsesImages.Instance, ReadsCluster = UsesCluster.Reading, ChangesCluster = UsesCluster.Changing, Guarded = GuardedByReleasePlan.Instance;

    private ITargetFact StartsTerraform => new StartsTool("terraform", () => Settings.RunsTerraform);

    private static StartsTool Starts(string tool, Func<bool>? when = null) => new(tool, when);

    // Image and cluster targets refuse shared, as the legacy script's kube commands did.
    private bool NotShared() => Environment != DeployEnvironment.Shared;

    private const string SharedRefusal = "shared is the platform stack (the ECR repositories and the internal tools cluster, which Helm and Terraform manage): no image or cluster target runs on it.";

    private const string SharedFix = "Use --environment beta or production; shared itself changes only through the Terraform targets (TerraformPlan, TerraformApply --environment shared).";
}
