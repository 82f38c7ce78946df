using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Platform;

/// <summary>An overlay to make real and the namespace its objects default to.</summary>
public sealed record Overlay(string Path, string DefaultNamespace);

/// <summary>What an overlay makes the cluster run: rendered, moved to the run's registry, each catalog image pinned to a digest.</summary>
public sealed record DesiredState(string Overlay, string DefaultNamespace, IReadOnlyList<KubeObject> Objects, PinningResult Pinning, IReadOnlyDictionary<string, string> Pins);

/// <summary>
/// Apply: the release's own pins (this run's build, what runs, the environment tag; none: stop). Preview: the same
/// before the build, for the release plan and the guards, with what runs in place of an image not built yet and the
/// tag kept where nothing is found (immutable fields and volumes do not depend on images).
/// </summary>
public enum PinPurpose
{
    Apply,
    Preview,
}

/// <summary>A desired state's objects resolved against the cluster (discovery, namespaces, Terraform's objects set aside), and its dry run.</summary>
public sealed record PlannedState(DesiredState State, ApplyPlan Plan, ApplyReport DryRun)
{
    /// <summary>The same plan, to apply for real.</summary>
    public ApplyPlan ToApply => Plan with { Options = Plan.Options with { DryRun = false } };
}

/// <summary>The guard's findings and the server-side dry run they come from (also the release plan's diff).</summary>
public sealed record GuardedRelease(IReadOnlyList<PlannedState> Plans, ApplyReport DryRun, GuardReport Guard)
{
    public PlannedState Of(DesiredState state) => Plans.First(p => p.State == state);
}

/// <summary>What KustomizeApply hands to RolloutRestart, WaitRollout and the release record.</summary>
public sealed record AppliedRelease(DesiredState Main, DesiredState? Compute, ApplyReport Report, PlannedState? ComputePlan, ApplyReport? ComputeFirst, IReadOnlyList<ObjectRef> RestartByTag);

/// <summary>What the cluster stage is given for its run, bound once from the parameters and the run's services.</summary>
/// <param name="RootDirectory">The repository root the overlays and k8s/ownership.yaml are under.</param>
/// <param name="ComputeOverlay">The compute layer's overlay (--compute-overlay, else the environment's; null: none).</param>
/// <param name="Role">The team role the run acts as (named in the permission fix).</param>
/// <param name="Catalog">The image catalog (loaded once per run).</param>
/// <param name="Cluster">The cluster this run acts on now (a cluster_name adopted from Terraform's outputs gets its own connection).</param>
/// <param name="Renderer">kubectl kustomize, offline.</param>
/// <param name="Registry">The run's registry client.</param>
/// <param name="RegistryReachable">Under dry-run, whether the registry may be asked at all.</param>
/// <param name="BuiltImages">This run's build report, or the one handed over with --build-report.</param>
/// <param name="ImagePlan">The image plan, once made (what an image not rebuilt already has).</param>
/// <param name="Deploy">The Deploy operation's part of the record (its guard, what its workloads ran before).</param>
/// <param name="RollBackThisRun">--rollback-on-failure: return what the operation changed to what it ran before.</param>
public sealed record ClusterStageInputs(
    string RootDirectory,
    string? ComputeOverlay,
    TeamRole Role,
    IReadOnlyList<VolumeAllowance> Allowances,
    Func<ImageCatalog> Catalog,
    Func<CancellationToken, Task<KubeCluster>> Cluster,
    KustomizeRenderer Renderer,
    Func<RegistryClient> Registry,
    Func<CancellationToken, Task<bool>> RegistryReachable,
    Func<BuildReport?> BuiltImages,
    Func<ImageBuildPlan?> ImagePlan,
    ReleaseOperation Deploy,
    Func<ReleaseOperation, CancellationToken, Task> RollBackThisRun)
{
    public TimeSpan? RolloutTimeout { get; init; }
    public bool RollbackOnFailure { get; init; }
    public TimeSpan SeedTimeout { get; init; } = TimeSpan.FromMinutes(10);
    public SeedFailurePolicy SeedFailure { get; init; } = SeedFailurePolicy.Warn;
}

/// <summary>
/// The environment's cluster release for one run, created once from the bound settings: the one desired state of each
/// overlay (rendered once, moved to the run's registry, pinned to digests), the release guard every change passes,
/// and the work of KustomizeApply, RolloutRestart, WaitRollout and SeedApps (one call each).
/// </summary>
public sealed class ClusterStage(EnvironmentSettings settings, ClusterStageInputs inputs, StageContext run)
{
    private const string Namespace = PlatformWorkloads.Namespace;

    /// <summary>The run-time images ConfigMap: the backend starts the images it names.</summary>
    public static readonly ObjectRef RuntimeImages = new("ConfigMap", Namespace, "tesslate-runtime-images");

    private static readonly ObjectRef Backend = PlatformWorkloads.Backend;

    /// <summary>Each overlay rendered once (kubectl kustomize), by whichever target needs it first.</summary>
    private readonly ConcurrentDictionary<string, Once<IReadOnlyList<KubeObject>>> _rendered = new(StringComparer.Ordinal);

    private ImageCatalog Catalog => inputs.Catalog();

    private bool IsLocal => settings.Name == DeployEnvironment.Local;

    public Overlay MainOverlay => new(settings.Overlay!, Namespace);

    /// <summary>The compute layer (btrfs CSI driver, Volume Hub, image pre-cache): the environment's, or --compute-overlay.</summary>
    public Overlay? ComputeLayer => inputs.ComputeOverlay is { } path ? new(path, PlatformWorkloads.SystemNamespace) : null;

    /// <summary>The overlays a release applies: the main one, then the compute layer where the environment has one.</summary>
    public IReadOnlyList<Overlay> ReleaseOverlays => ComputeLayer is { } compute ? [MainOverlay, compute] : [MainOverlay];

    /// <summary>Catalog repositories as the run's registry names them.</summary>
    public IReadOnlySet<string> CatalogRepositories => Catalog.Images.Select(i => $"{settings.Registry}/{i.Repository}").ToHashSet(StringComparer.Ordinal);

    /// <summary>Catalog repositories whose images also get :latest in this environment when its tag moves.</summary>
    public IReadOnlySet<string> AlsoLatest => Catalog.Images.Where(i => i.Tags.LatestOn.Contains(settings.Id)).Select(i => $"{settings.Registry}/{i.Repository}").ToHashSet(StringComparer.Ordinal);

    /// <summary>After the cluster stopped answering mid-rollout: the rollouts went on without this run, so look before acting again.</summary>
    public string AfterRolloutOutage => $"see where each workload is with ./build.sh Status --environment {settings.Id} before running anything again";

    public static bool IsWorkload(ObjectRef o) => o.Kind is "Deployment" or "DaemonSet" or "StatefulSet";

    /// <summary>What a release records, promotes and rolls back: workloads, CronJobs (they run the backend image) and the run-time images.</summary>
    public static bool IsReleaseEntry(ObjectRef o) => IsWorkload(o) || o.Kind == "CronJob" || o.Matches(RuntimeImages);

    public static IEnumerable<ObjectRef> ReadersOf(IEnumerable<KubeObject> objects, string configMap) =>
        objects.Where(o => IsWorkload(o.Ref) && o.Body["spec"]?["template"]?.ToJsonString().Contains($"\"{configMap}\"", StringComparison.Ordinal) == true).Select(o => o.Ref);

    public RolloutWaitOptions WaitOptions() => new()
    {
        DeadlineOverride = RolloutDeadlines.ValidateOverride(inputs.RolloutTimeout, "--rollout-timeout"),
        OnProgress = p => run.Log.Information("[{Workload}] {Message}", p.Workload.Name, p.Message),
        Fixes = PodTroubleshooting.Fix,
        AfterOutage = AfterRolloutOutage,
    };

    /// <summary>Objects Terraform owns (k8s/ownership.yaml) are never applied from an aws overlay.</summary>
    public IReadOnlyList<ObjectRef> TerraformOwnedObjects() =>
        IsLocal ? [] : ObjectOwnership.OwnedByTerraform(ObjectOwnership.PathIn(inputs.RootDirectory));

    public string PermissionFix => IsLocal
        ? "Use a kube context whose user may apply these objects (cluster-admin on kind/minikube/Docker Desktop)."
        : $"Applying manifests needs the admin role (--role admin, the default); you run as {ParameterDescriptor.Kebab(inputs.Role.ToString())}. deployer may only restart Deployments in {Namespace} (./build.sh Reload --workloads …).";

    /// <summary>Container env variables whose values are catalog image references (the backend starts these images).</summary>
    private IEnumerable<string> RuntimeImageVariables => Catalog.Images.Where(i => i.RuntimeReferenced).Select(i => $"K8S_{i.Name.ToUpperInvariant()}_IMAGE");

    public Task<IReadOnlyList<KubeObject>> RenderAsync(CancellationToken cancellationToken) => RenderAsync(settings.Overlay!, cancellationToken);

    /// <summary>Rendered once per run (kubectl kustomize, offline), catalog references moved to the run's registry.</summary>
    public Task<IReadOnlyList<KubeObject>> RenderAsync(string overlay, CancellationToken cancellationToken) =>
        _rendered.GetOrAdd(overlay, _ => new()).GetAsync(async () =>
            RetargetRegistry(overlay, await inputs.Renderer.RenderAsync(Path.Combine(inputs.RootDirectory, overlay), cancellationToken)));

    /// <summary>The workloads of the overlays the environment has (the compute layer's too), for names on the command line and Status.</summary>
    public async Task<IReadOnlyList<ObjectRef>> RenderedWorkloadsAsync(CancellationToken cancellationToken)
    {
        var workloads = new List<ObjectRef>();
        foreach (var overlay in ReleaseOverlays)
            workloads.AddRange((await RenderAsync(overlay.Path, cancellationToken)).Select(o => o.Ref.Namespace is null ? o.Ref with { Namespace = overlay.DefaultNamespace } : o.Ref).Where(IsWorkload));
        return workloads;
    }

    /// <summary>
    /// The overlays name the environment's default registry; with --registry (or another account/region) the catalog
    /// images are elsewhere, so their references move there before pinning (which keys pins by the run's registry).
    /// </summary>
    private IReadOnlyList<KubeObject> RetargetRegistry(string overlay, IReadOnlyList<KubeObject> rendered)
    {
        var overlayRegistry = EnvironmentTable.Defaults(settings.Name).Registry;
        if (overlayRegistry is null || overlayRegistry == settings.Registry)
            return rendered;
        run.Log.Information("Catalog image references of {Overlay} moved from {From} to {To}.", overlay, overlayRegistry, settings.Registry);
        return RegistryRetargeting.Retarget(rendered, overlayRegistry, settings.Registry!, Catalog.Images.Select(i => i.Repository),
            [RuntimeImages], RuntimeImageVariables, ["APP_IMAGE_REGISTRY_PREFIX"]);
    }

    /// <summary>
    /// The one desired state of each overlay given. Pins are resolved once for all of them, from the carriers of every
    /// overlay the environment has (the main one first): the CSI image pre-cache and the backend's run-time images get
    /// the same devserver digest, and an image only the compute layer runs never needs a digest for a main-overlay Reload.
    /// </summary>
    public async Task<IReadOnlyList<DesiredState>> DesiredStatesAsync(IReadOnlyList<Overlay> overlays, KubeCluster? cluster, PinPurpose purpose, CancellationToken cancellationToken)
    {
        var rendered = new Dictionary<string, IReadOnlyList<KubeObject>>(StringComparer.Ordinal);
        foreach (var overlay in new[] { MainOverlay }.Concat(ComputeLayer is { } compute ? [compute] : []).Concat(overlays).DistinctBy(o => o.Path))
            rendered[overlay.Path] = await RenderAsync(overlay.Path, cancellationToken);
        var carriers = References(rendered.Values.SelectMany(o => o));
        var referenced = References(overlays.SelectMany(o => rendered[o.Path])).ToDictionary(r => r.Key, r => carriers[r.Key], StringComparer.Ordinal);
        var pins = await ResolvePinsAsync(referenced, cluster, purpose, cancellationToken);
        return [.. overlays.Select(o =>
        {
            var pinned = DigestPinning.Pin(rendered[o.Path], pins, [RuntimeImages], RuntimeImageVariables);
            return new DesiredState(o.Path, o.DefaultNamespace, pinned.Objects, pinned, pins);
        })];
    }

    /// <summary>Catalog repository → the objects that carry it (containers, the runtime-images ConfigMap, runtime env variables), in order.</summary>
    private Dictionary<string, IReadOnlyList<ObjectRef>> References(IEnumerable<KubeObject> objects)
    {
        var catalog = CatalogRepositories;
        return DigestPinning.References(objects, [RuntimeImages], RuntimeImageVariables)
            .Where(r => catalog.Contains(r.Key))
            .ToDictionary(r => r.Key, r => (IReadOnlyList<ObjectRef>)[.. r.Value.Select(v => v.Object).Distinct()], StringComparer.Ordinal);
    }

    /// <summary>
    /// repository → repository@digest for every catalog image the objects to apply reference: this run's build, else
    /// what the live objects carrying it run or name, else the digest of the environment tag in the registry. Nothing
    /// found: stop before anything is applied, naming the --images value that builds it (local and --dry-run: warn and
    /// keep the tag; Preview: keep the tag).
    /// </summary>
    private async Task<IReadOnlyDictionary<string, string>> ResolvePinsAsync(IReadOnlyDictionary<string, IReadOnlyList<ObjectRef>> referenced, KubeCluster? cluster, PinPurpose purpose,
        CancellationToken cancellationToken)
    {
        var report = inputs.BuiltImages();
        var images = Catalog.Images.ToDictionary(i => $"{settings.Registry}/{i.Repository}", StringComparer.Ordinal);
        var resolution = await PinResolution.ResolveAsync(referenced, new DigestSources(
            repository => report?[images[repository].Name]?.Digest ?? inputs.ImagePlan()?.Images.FirstOrDefault(i => i.Name == images[repository].Name)?.Existing?.Digest,
            (repository, carriers, ct) => cluster is null ? Task.FromResult<string?>(null) : LiveDigestAsync(cluster, carriers, repository, ct),
            (repository, ct) => TaggedDigestAsync(images[repository].Repository, ct)), cancellationToken);
        foreach (var pin in resolution.Pins)
            run.Log.Debug("{Repository}: {Digest} ({Source})", pin.Repository, pin.Digest, pin.Source);
        var names = images.ToDictionary(i => i.Key, i => i.Value.Name, StringComparer.Ordinal);
        if (purpose == PinPurpose.Apply && ReleaseProblems.MissingDigests(resolution, names, settings.Id, settings.ImageTag!, settings.Registry!) is { } failure)
        {
            if (!IsLocal && !run.DryRun)
                throw failure;
            run.Log.Warning("No digest for {Images} (not built in this run, not running, no {Tag} tag in {Registry}): their tags stay as they are.",
                string.Join(", ", resolution.Missing.Select(m => names[m])), settings.ImageTag, settings.Registry);
        }
        return resolution.Map;
    }

    private async Task<string?> TaggedDigestAsync(string repository, CancellationToken cancellationToken)
    {
        if (run.DryRun && !await inputs.RegistryReachable(cancellationToken))
            return null;
        try
        {
            return await inputs.Registry().GetDigestAsync(repository, settings.ImageTag!, cancellationToken);
        }
        catch (BuildFailure failure) when (run.DryRun)
        {
            run.Log.Debug("Registry not checked in dry-run: {Problem}", failure.Problem);
            return null;
        }
    }

    /// <summary>The digest a live carrier (a workload's containers, the runtime-images ConfigMap, a runtime env variable) has for the repository.</summary>
    private async Task<string?> LiveDigestAsync(KubeCluster cluster, IReadOnlyList<ObjectRef> carriers, string repository, CancellationToken cancellationToken)
    {
        foreach (var carrier in carriers)
        {
            var resource = await cluster.ResolveAsync(WorkloadSnapshot.ApiVersionOf(carrier.Kind), carrier.Kind, cancellationToken);
            if (resource is null || await cluster.GetAsync(resource, carrier.Namespace, carrier.Name, cancellationToken) is not { } live)
                continue;
            var running = DigestPinning.References([new KubeObject(live)], [RuntimeImages], RuntimeImageVariables).GetValueOrDefault(repository, [])
                .Select(r => r.Image).FirstOrDefault(i => i.Digest is not null);
            if (running is not null)
                return running.Digest;
        }
        return null;
    }

    public async Task<ApplyPlan> PlanApplyAsync(IReadOnlyList<KubeObject> objects, KubeCluster cluster, bool dryRun, string defaultNamespace, CancellationToken cancellationToken) =>
        await new ManifestApplier(cluster, run.Log).PlanAsync(objects, new ApplyOptions { Excluded = TerraformOwnedObjects(), DefaultNamespace = defaultNamespace, DryRun = dryRun }, cancellationToken);

    /// <summary>
    /// The release guard: a server-side dry run of every desired state, judged against what runs: refusals of immutable
    /// fields, changes of where data lives (unless --allow-volume-change names the object), objects client-side
    /// kubectl apply left (their field ownership moves at the apply). Read-only.
    /// </summary>
    public async Task<GuardedRelease> GuardAsync(IReadOnlyList<DesiredState> states, KubeCluster cluster, Serilog.ILogger logger, CancellationToken cancellationToken)
    {
        var plans = new List<PlannedState>();
        var results = new List<AppliedObject>();
        foreach (var state in states)
        {
            var plan = await PlanApplyAsync(state.Objects, cluster, dryRun: true, state.DefaultNamespace, cancellationToken);
            var report = await new ManifestApplier(cluster, logger).ApplyAsync(plan, cancellationToken);
            plans.Add(new PlannedState(state, plan, report));
            results.AddRange(report.Objects);
        }
        var dryRun = new ApplyReport(results, DryRun: true);
        return new GuardedRelease(plans, dryRun, ReleaseGuard.Judge(dryRun, inputs.Allowances));
    }

    /// <summary>The guard of an operation's desired state, printed in full under --dry-run (else counts only).</summary>
    public Task<GuardedRelease> GuardAsync(IReadOnlyList<DesiredState> states, KubeCluster cluster, CancellationToken cancellationToken) =>
        GuardAsync(states, cluster, run.DryRun ? run.Log : Serilog.Core.Logger.None, cancellationToken);

    /// <summary>Right before the first change: stop on anything that would break what runs, naming it and the fix.</summary>
    public void EnforceGuard(ReleaseOperation operation, GuardReport guard)
    {
        foreach (var unused in guard.UnusedAllowances)
            run.Log.Warning("--allow-volume-change {Allowance} names no volume change of this release: nothing to allow there.", unused);
        foreach (var (label, text) in ReleaseProblems.GuardRows(guard))
            run.Log.Information("{Label,-9} {Text:l}", label, text);
        run.Report.SetSection("releaseGuard", guard.ToReport());
        operation.Guard.Set(guard);
        if (ReleaseProblems.GuardFailure(guard) is { } failure)
            throw failure;
    }

    /// <summary>
    /// Read-only, for the release plan, before any push or apply: may the chosen role apply the release's overlays,
    /// restart their workloads, hold the lock, record the release (<paramref name="history"/>) and seed the apps?
    /// </summary>
    public async Task CheckPermissionsAsync(bool history, bool seeds, string clusterLabel, CancellationToken cancellationToken)
    {
        try
        {
            var cluster = await inputs.Cluster(cancellationToken);
            var plans = new List<ApplyPlan>();
            foreach (var overlay in ReleaseOverlays)
                plans.Add(await PlanApplyAsync(await RenderAsync(overlay.Path, cancellationToken), cluster, dryRun: true, overlay.DefaultNamespace, cancellationToken));
            var workloads = plans.SelectMany(p => p.Objects).Select(o => o.Object.Ref).Where(IsWorkload);
            var release = PermissionPreflight.ForRelease(Namespace, history, seeds);
            await PermissionPreflight.EnsureAsync(cluster, plans.SelectMany(PermissionPreflight.ForApply).Concat(PermissionPreflight.ForRollouts(workloads, restart: true)).Concat(release), PermissionFix, cancellationToken);
            StageContext.Note($"{clusterLabel}: the role may apply {plans.Sum(p => p.Objects.Count)} objects");
        }
        catch (PrerequisiteMissingException missing) when (run.DryRun)
        {
            run.Log.Warning("Cluster permissions not checked in dry-run: {Problem}", missing.Problem);
        }
    }

    /// <summary>
    /// Read-only, for the release plan: the guard (with what runs in place of images not built yet) and, when every
    /// image is known, the server-side dry run of the overlays pinned as KustomizeApply will pin them; or why the
    /// cluster cannot be compared.
    /// </summary>
    public async Task<(ApplyReport? Diff, string? NotCompared, GuardReport? Guard)> DiffAsync(IReadOnlyList<string> builtLater, CancellationToken cancellationToken)
    {
        KubeCluster cluster;
        try
        {
            cluster = await inputs.Cluster(cancellationToken);
        }
        catch (PrerequisiteMissingException missing)
        {
            return (null, $"no cluster ({missing.Problem})", null);
        }
        var states = await DesiredStatesAsync(ReleaseOverlays, cluster, PinPurpose.Preview, cancellationToken);
        // Counts only: KustomizeApply (and its dry run) prints each object's diff.
        var guarded = await GuardAsync(states, cluster, Serilog.Core.Logger.None, cancellationToken);
        return builtLater.Count > 0
            ? (null, $"images not yet known ({string.Join(", ", builtLater)} will be built first)", guarded.Guard)
            : (guarded.DryRun, null, guarded.Guard);
    }

    /// <summary>KustomizeApply: render, pin, guard, check permissions, capture the "before", apply (the compute layer's first step too).</summary>
    /// <returns>What later targets need; null in a dry run without a cluster (only the rendered objects were shown).</returns>
    public async Task<AppliedRelease?> ApplyAsync(CancellationToken cancellationToken)
    {
        KubeCluster? cluster = null;
        try
        {
            cluster = await inputs.Cluster(cancellationToken);
        }
        catch (PrerequisiteMissingException missing) when (run.DryRun)
        {
            run.Log.Warning("No cluster in dry-run ({Problem}): showing the rendered objects and the digests they would get, without a server-side diff.", missing.Problem);
        }
        var states = await DesiredStatesAsync(ReleaseOverlays, cluster, PinPurpose.Apply, cancellationToken);
        var desired = states[0];
        var compute = states.Count > 1 ? states[1] : null;
        if (compute is null)
            StageContext.Note($"{settings.Id} has no compute layer (the btrfs CSI driver and the Volume Hub run on beta and production)");
        foreach (var change in desired.Pinning.Changes.Where(c => c.Object.Kind == "ConfigMap"))
            StageContext.Note($"runtime image {change.Location}: {change.After}");
        if (cluster is null)
        {
            foreach (var state in states)
                foreach (var use in WorkloadImages.FromManifests(state.Objects).Where(u => u.Image.Repository.StartsWith(settings.Registry!, StringComparison.Ordinal)))
                    run.Log.Information("[dry-run] {Workload} {Container}: {Image}", use.Workload, use.Container, use.Image);
            StageContext.Note($"{states.Sum(s => s.Objects.Count)} objects rendered from {string.Join(" and ", states.Select(s => s.Overlay))}; {states.Sum(s => s.Pinning.Changes.Count)} image references pinned; not applied (no cluster in dry-run)");
            return null;
        }

        // Right before the first change, on the final pins: the server's refusals, the data volumes, the takeovers.
        var guarded = await GuardAsync(states, cluster, cancellationToken);
        EnforceGuard(inputs.Deploy, guarded.Guard);
        var main = guarded.Of(desired);
        var computePlan = compute is null ? null : guarded.Of(compute);
        var plans = guarded.Plans.Select(p => p.Plan).ToList();
        var requirements = plans.SelectMany(PermissionPreflight.ForApply)
            .Concat(PermissionPreflight.ForRollouts(plans.SelectMany(p => p.Objects).Select(o => o.Object.Ref).Where(IsWorkload), restart: true));
        await PermissionPreflight.EnsureAsync(cluster, requirements, PermissionFix, cancellationToken);

        await inputs.Deploy.CaptureBeforeAsync(cluster, plans.SelectMany(p => p.Objects).Select(o => o.Object.Ref).Where(IsReleaseEntry), cancellationToken);
        var applier = new ManifestApplier(cluster, run.Log);
        ApplyReport report;
        ApplyReport? computeFirst = null;
        if (run.DryRun)
        {
            report = main.DryRun;
            if (computePlan is not null)
                StageContext.Note($"compute overlay {compute!.Overlay}: {computePlan.DryRun.Summary}; would apply all but {PlatformWorkloads.VolumeHub} first, then {PlatformWorkloads.VolumeHub} once the rollouts it starts completed");
        }
        else
        {
            report = await applier.ApplyAsync(main.ToApply, cancellationToken);
            if (computePlan is not null)
            {
                // The compute layer after the main overlay; the Volume Hub keeps what it runs until WaitRollout saw the CSI nodes through.
                computeFirst = await applier.ApplyAsync(ComputeRelease.FirstStep(computePlan.ToApply), cancellationToken);
                StageContext.Note($"compute overlay, step 1 (all but {PlatformWorkloads.VolumeHub.Name}): {computeFirst.Summary}");
            }
        }
        inputs.Deploy.TookOver([.. report.TakenOver, .. computeFirst?.TakenOver ?? []]);
        StageContext.Note(report.Summary);
        foreach (var diff in report.Objects.Where(o => o.Diff.Count > 0 && run.DryRun))
            StageContext.Note($"{diff.Object}: {string.Join("; ", diff.Diff.Take(5))}");
        run.Report.SetSection("kubernetes", new
        {
            overlay = settings.Overlay,
            computeOverlay = compute?.Overlay,
            pins = desired.Pins,
            objects = report.Objects.Concat(computeFirst?.Objects ?? []).Select(o => new { @object = o.Object.ToString(), outcome = o.Outcome.ToString().ToLowerInvariant(), o.PodTemplateChanged }),
            rolled = report.RolledWorkloads.Concat(computeFirst?.RolledWorkloads ?? []).Select(w => w.ToString()),
            takenOver = inputs.Deploy.TakenOver.Select(t => new { @object = t.Object.ToString(), from = t.TakenOverFrom }),
        });

        // Workloads whose catalog images stayed on a tag (local without a digest) do not roll by themselves. Only catalog
        // images: third-party tags (postgres, redis) are not ours to re-pull, and a no-change redeploy restarts nothing.
        var catalogRepositories = CatalogRepositories;
        IEnumerable<ObjectRef> restartByTag = desired.Pinning.Unpinned.Where(u => catalogRepositories.Contains(u.Image.Repository)).Select(u => u.Workload).Where(IsWorkload);
        // The runtime-images ConfigMap keeps its name, so its readers do not roll when a value changes.
        if (report.Objects.Any(o => o.Object.Matches(RuntimeImages) && o.Outcome == ApplyOutcome.Configured && !JsonNode.DeepEquals(o.Live?["data"], o.Result?["data"])))
            restartByTag = restartByTag.Concat(ReadersOf(desired.Objects, RuntimeImages.Name));
        return new AppliedRelease(desired, compute, report, computePlan, computeFirst, [.. restartByTag.Distinct()]);
    }

    /// <summary>RolloutRestart: the workloads KustomizeApply left on a tag; returns those restarted.</summary>
    public async Task<IReadOnlyList<ObjectRef>> RestartAsync(AppliedRelease? applied, CancellationToken cancellationToken)
    {
        var cluster = await inputs.Cluster(cancellationToken);
        var restarter = new RolloutRestarter(cluster, run.Log, run.DryRun);
        restarter.MarkRolled(applied?.Report.RolledWorkloads ?? []);
        var restarted = new List<ObjectRef>();
        foreach (var workload in applied?.RestartByTag ?? [])
        {
            if (await restarter.RestartAsync(workload, cancellationToken) == RestartOutcome.Restarted)
                restarted.Add(workload);
        }
        StageContext.Note(restarted.Count == 0 ? "nothing to restart: every changed workload rolled through its new digest" : $"restarted {string.Join(", ", restarted)}");
        return restarted;
    }

    /// <summary>
    /// WaitRollout: every workload the apply rolled or the restart restarted, then the compute layer's second step. The
    /// report is handed off before a failure stops the run (after the rollback, with --rollback-on-failure).
    /// </summary>
    public async Task WaitAsync(AppliedRelease? applied, IReadOnlyList<ObjectRef>? restarted, Action<RolloutWaitReport> handOff, CancellationToken cancellationToken)
    {
        var deadline = RolloutDeadlines.ValidateOverride(inputs.RolloutTimeout, "--rollout-timeout");
        var workloads = (applied?.Report.RolledWorkloads ?? []).Concat(restarted ?? []).Where(IsWorkload).Distinct().Select(w => new RolloutTarget(w))
            .Concat(applied?.ComputeFirst is { } first ? ComputeRelease.FirstStepTargets(first) : []).ToList();
        if (run.DryRun)
        {
            StageContext.Note(workloads.Count == 0 ? "no workload changed: nothing to wait for" : $"would wait for {string.Join(", ", workloads.Select(w => w.Workload))}");
            return;
        }
        if (workloads.Count == 0 && applied?.ComputePlan is null)
        {
            StageContext.Note("no workload changed: nothing to wait for");
            return;
        }
        var cluster = await inputs.Cluster(cancellationToken);
        var waiter = new RolloutWaiter(cluster, run.Log);
        var options = new RolloutWaitOptions
        {
            DeadlineOverride = deadline,
            PushedDigests = inputs.BuiltImages()?.Images.Where(i => i.Digest is not null).ToDictionary(i => i.Image, i => i.Digest!, StringComparer.Ordinal),
            Fixes = PodTroubleshooting.Fix,
            AfterOutage = AfterRolloutOutage,
        };
        // The waiter logs each workload's progress itself; logging it here too printed every line twice.
        var report = await waiter.WaitAsync(workloads, options, cancellationToken);
        if (applied?.ComputePlan is { } computePlan)
        {
            if (ComputeRelease.HubHeldBecause(report) is { } held)
                StageContext.Note(held);
            else
            {
                // Step 2 of the compute layer: the Volume Hub gets its new digest only now that the CSI nodes are through.
                var second = await new ManifestApplier(cluster, run.Log).ApplyAsync(ComputeRelease.SecondStep(computePlan.ToApply), cancellationToken);
                StageContext.Note($"compute overlay, step 2 ({PlatformWorkloads.VolumeHub.Name}): {second.Summary}");
                inputs.Deploy.TookOver(second.TakenOver);
                if (second.RolledWorkloads.Count > 0)
                    report = new RolloutWaitReport([.. report.Results, .. (await waiter.WaitAsync([.. second.RolledWorkloads.Select(w => new RolloutTarget(w))], options, cancellationToken)).Results]);
            }
        }
        handOff(report);
        run.Report.SetSection("rollouts", report.Results.Select(r => new { workload = r.Workload.ToString(), outcome = r.Outcome.ToString().ToLowerInvariant(), r.Message, seconds = Math.Round(r.Duration.TotalSeconds, 1), problems = r.Problems.Select(p => p.ToString()) }));
        foreach (var result in report.Results)
            StageContext.Note($"{result.Workload.Name}: {result.Outcome.ToString().ToLowerInvariant()} ({Durations.Format(result.Duration)})");
        if (report.Results.Count == 0)
            StageContext.Note("no workload changed: nothing to wait for");
        if (!report.AllSucceeded && inputs.RollbackOnFailure)
            await inputs.RollBackThisRun(inputs.Deploy, cancellationToken);
        report.ThrowIfFailed(options.AfterOutage);
    }

    /// <summary>SeedApps: the apps registry seed in a Ready pod of the new backend, when this run deployed one.</summary>
    public async Task SeedAsync(RolloutWaitReport? rolledOut, CancellationToken cancellationToken)
    {
        PodCommandJudge.ValidateTimeout(inputs.SeedTimeout, "--seed-timeout");
        var backendInRun = inputs.BuiltImages()?["backend"] is { Digest: not null };
        if (PodCommandGate.WhyNot("backend", backendInRun, Backend, rolledOut) is { } reason)
        {
            StageContext.Note($"skipped: {reason}");
            return;
        }
        if (run.DryRun)
        {
            StageContext.Note("would run python -m scripts.seed_apps in a Ready pod of the new backend");
            return;
        }
        var cluster = await inputs.Cluster(cancellationToken);
        var result = await new PodCommandRunner(cluster.Client, run.Log, cluster.BeforeChangeAsync).RunAsync(
            new PodCommand("SeedApps", Namespace, Backend.Name, ["python", "-m", "scripts.seed_apps"])
            {
                Timeout = inputs.SeedTimeout,
                OnFailure = inputs.SeedFailure == SeedFailurePolicy.Fail ? CommandFailurePolicy.Fail : CommandFailurePolicy.Warn,
                TimeoutSetting = "--seed-timeout",
                WarnSetting = "--seed-failure warn",
            },
            cancellationToken);
        run.Report.SetSection("seed", result);
        if (result.IsWarning)
            run.Log.Warning("Apps registry seed reported a failure ({Message}); the release goes on (--seed-failure warn). Inspect the backend logs: ./build.sh Logs --environment {Environment} --workloads backend", result.Message, settings.Id);
        StageContext.Note(result.Message);
    }
}
