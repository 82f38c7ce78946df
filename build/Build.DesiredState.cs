using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

// The one desired state of the cluster, and the guard every change passes before it is applied.
internal sealed partial class Build
{
    private const string SystemNamespace = PlatformWorkloads.SystemNamespace;

    /// <summary>What an overlay makes the cluster run: rendered, moved to the run's registry, each catalog image pinned to a digest.</summary>
    private sealed record DesiredState(string Overlay, string DefaultNamespace, IReadOnlyList<KubeObject> Objects, PinningResult Pinning, IReadOnlyDictionary<string, string> Pins);

    /// <summary>
    /// Apply: the release's own pins (this run's build, what runs, the environment tag; none: stop). Preview: the same
    /// before the build, for the release plan and the guards, with what runs in place of an image not built yet and the
    /// tag kept where nothing is found (immutable fields and volumes do not depend on images).
    /// </summary>
    private enum PinPurpose
    {
        Apply,
        Preview,
    }

    /// <summary>An overlay to make real and the namespace its objects default to.</summary>
    private sealed record Overlay(string Path, string DefaultNamespace);

    private Overlay MainOverlay => new(Settings.Overlay!, Namespace);

    /// <summary>The compute layer (btrfs CSI driver, Volume Hub, image pre-cache): the environment's, or --compute-overlay.</summary>
    private string? ComputeOverlayPath => ComputeOverlay ?? Settings.ComputeOverlay;

    private Overlay? ComputeLayer => ComputeOverlayPath is { } path ? new(path, SystemNamespace) : null;

    private async Task<IReadOnlyList<KubeObject>> RenderAsync(CancellationToken cancellationToken) => await RenderAsync(Settings.Overlay!, cancellationToken);

    /// <summary>Rendered once per run (kubectl kustomize, offline), catalog references moved to the run's registry.</summary>
    private Task<IReadOnlyList<KubeObject>> RenderAsync(string overlay, CancellationToken cancellationToken) =>
        _run.RenderedOverlays.GetOrAdd(overlay, _ => new()).GetAsync(async () =>
            RetargetRegistry(overlay, await new KustomizeRenderer(Runner, Tools.Kubectl).RenderAsync(Path.Combine(RootDirectory, overlay), cancellationToken)));

    /// <summary>
    /// The one desired state of each overlay given. Pins are resolved once for all of them, from the carriers of every
    /// overlay the environment has (the main one first): the CSI image pre-cache and the backend's run-time images get
    /// the same devserver digest, and an image only the compute layer runs never needs a digest for a main-overlay Reload.
    /// </summary>
    private async Task<IReadOnlyList<DesiredState>> DesiredStatesAsync(IReadOnlyList<Overlay> overlays, KubeCluster? cluster, PinPurpose purpose, CancellationToken cancellationToken)
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
        var report = CurrentBuildReport();
        var images = Catalog.Images.ToDictionary(i => $"{Settings.Registry}/{i.Repository}", StringComparer.Ordinal);
        var resolution = await PinResolution.ResolveAsync(referenced, new DigestSources(
            repository => report?[images[repository].Name]?.Digest ?? _run.ImagePlan.ValueOrDefault?.Images.FirstOrDefault(i => i.Name == images[repository].Name)?.Existing?.Digest,
            (repository, carriers, ct) => cluster is null ? Task.FromResult<string?>(null) : LiveDigestAsync(cluster, carriers, repository, ct),
            (repository, ct) => TaggedDigestAsync(images[repository].Repository, ct)), cancellationToken);
        foreach (var pin in resolution.Pins)
            Log.Debug("{Repository}: {Digest} ({Source})", pin.Repository, pin.Digest, pin.Source);
        var names = images.ToDictionary(i => i.Key, i => i.Value.Name, StringComparer.Ordinal);
        if (purpose == PinPurpose.Apply && ReleaseProblems.MissingDigests(resolution, names, Settings.Id, Settings.ImageTag!, Settings.Registry!) is { } failure)
        {
            if (Environment != DeployEnvironment.Local && !IsDryRun)
                throw failure;
            Log.Warning("No digest for {Images} (not built in this run, not running, no {Tag} tag in {Registry}): their tags stay as they are.",
                string.Join(", ", resolution.Missing.Select(m => names[m])), Settings.ImageTag, Settings.Registry);
        }
        return resolution.Map;
    }

    /// <summary>A desired state's objects resolved against the cluster (discovery, namespaces, Terraform's objects set aside), and its dry run.</summary>
    private sealed record PlannedState(DesiredState State, ApplyPlan Plan, ApplyReport DryRun)
    {
        /// <summary>The same plan, to apply for real.</summary>
        public ApplyPlan ToApply => Plan with { Options = Plan.Options with { DryRun = false } };
    }

    /// <summary>The guard's findings and the server-side dry run they come from (also the release plan's diff).</summary>
    private sealed record GuardedRelease(IReadOnlyList<PlannedState> Plans, ApplyReport DryRun, GuardReport Guard)
    {
        public PlannedState Of(DesiredState state) => Plans.First(p => p.State == state);
    }

    private IReadOnlyList<VolumeAllowance> Allowances => [.. AllowVolumeChange.SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(ReleaseProblems.Allowance)];

    /// <summary>
    /// The release guard: a server-side dry run of every desired state, judged against what runs: refusals of immutable
    /// fields, changes of where data lives (unless --allow-volume-change names the object), objects client-side
    /// kubectl apply left (their field ownership moves at the apply). Read-only.
    /// </summary>
    private async Task<GuardedRelease> GuardAsync(IReadOnlyList<DesiredState> states, KubeCluster cluster, Serilog.ILogger logger, CancellationToken cancellationToken)
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
        return new GuardedRelease(plans, dryRun, ReleaseGuard.Judge(dryRun, Allowances));
    }

    /// <summary>Right before the first change: stop on anything that would break what runs, naming it and the fix.</summary>
    private void EnforceGuard(ReleaseOperation operation, GuardReport guard)
    {
        foreach (var unused in guard.UnusedAllowances)
            Log.Warning("--allow-volume-change {Allowance} names no volume change of this release: nothing to allow there.", unused);
        foreach (var (label, text) in ReleaseProblems.GuardRows(guard))
            Log.Information("{Label,-9} {Text:l}", label, text);
        Report.SetSection("releaseGuard", guard.ToReport());
        operation.Guard.Set(guard);
        if (ReleaseProblems.GuardFailure(guard) is { } failure)
            throw failure;
    }

    /// <summary>
    /// An operation outside Deploy's release plan (Reload, DeployCompute) that changes where data lives asks for the
    /// same approval a release plan would (not on local).
    /// </summary>
    private async Task ApproveVolumeChangesAsync(GuardReport guard, CancellationToken cancellationToken)
    {
        if (ReleaseApproval.VolumeReason(Settings, guard.AllowedVolumeChanges.Count) is not { } reason || IsDryRun)
            return;
        await ApproveOnceAsync($"Approve the change to {Settings.Id} ({reason})?", cancellationToken);
        Note($"approved ({reason})");
    }
}
