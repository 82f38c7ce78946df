using k8s;
using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Tesslate.Build;

internal sealed partial class Build
{
    private const string Namespace = "tesslate";
    private static readonly ObjectRef RuntimeImages = new("ConfigMap", Namespace, "tesslate-runtime-images");

    private KubeCluster? _cluster;
    private IReadOnlyList<KubeObject>? _rendered;
    private ApplyReport? _applyReport;
    private RolloutRestarter? _restarter;
    private readonly List<ObjectRef> _restarted = [];
    private IReadOnlyDictionary<string, string> _pins = new Dictionary<string, string>();

    /// <summary>The cluster for this run: in memory, never through (or into) the user's kubeconfig's current context.</summary>
    private async Task<KubeCluster> ClusterAsync(CancellationToken cancellationToken)
    {
        if (_cluster is not null)
            return _cluster;
        KubernetesClientConfiguration configuration;
        string name;
        if (Environment == DeployEnvironment.Local)
        {
            var paths = EnvironmentVariables.GetValueOrDefault("KUBECONFIG") is { Length: > 0 } kubeconfig
                ? kubeconfig.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                : KubeContexts.DefaultPaths();
            configuration = KubeContexts.Load(KubeContext, paths);
            name = configuration.CurrentContext ?? KubeContext ?? "current context";
        }
        else
        {
            var (role, roleSession, _) = await ClusterSessionAsync(cancellationToken);
            var cluster = await Diagnosed(() => roleSession.Eks.DescribeClusterAsync(Settings.ClusterName!, cancellationToken));
            configuration = EksKubernetesAccess.ClientConfiguration(cluster, roleSession.EksTokens(Settings.ClusterName!));
            name = $"{Settings.ClusterName} as {role.Role}";
        }
        var connected = KubeCluster.Connect(configuration, name);
        Cleanup.Register("close the cluster connection", () => { connected.Dispose(); return Task.CompletedTask; });
        return _cluster = connected;
    }

    private async Task<IReadOnlyList<KubeObject>> RenderAsync(CancellationToken cancellationToken) =>
        _rendered ??= RetargetRegistry(await new KustomizeRenderer(Runner).RenderAsync(Path.Combine(RootDirectory, Settings.Overlay!), cancellationToken));

    /// <summary>Container env variables whose values are catalog image references (the backend starts these images).</summary>
    private IEnumerable<string> RuntimeImageVariables => Catalog.Images.Where(i => i.RuntimeReferenced).Select(i => $"K8S_{i.Name.ToUpperInvariant()}_IMAGE");

    /// <summary>
    /// The overlays name the environment's default registry; with --registry (or another account/region) the catalog
    /// images are elsewhere, so their references move there before pinning (which keys pins by Settings.Registry).
    /// </summary>
    private IReadOnlyList<KubeObject> RetargetRegistry(IReadOnlyList<KubeObject> rendered)
    {
        var overlayRegistry = EnvironmentTable.Defaults(Environment).Registry;
        if (overlayRegistry is null || overlayRegistry == Settings.Registry)
            return rendered;
        Log.Information("Catalog image references of {Overlay} moved from {From} to {To}.", Settings.Overlay, overlayRegistry, Settings.Registry);
        return RegistryRetargeting.Retarget(rendered, overlayRegistry, Settings.Registry!, Catalog.Images.Select(i => i.Repository),
            [RuntimeImages], RuntimeImageVariables, ["APP_IMAGE_REGISTRY_PREFIX"]);
    }

    /// <summary>Objects Terraform owns (k8s/ownership.yaml) are never applied from an aws overlay.</summary>
    private IReadOnlyList<ObjectRef> TerraformOwnedObjects()
    {
        if (Environment == DeployEnvironment.Local)
            return [];
        var path = Path.Combine(RootDirectory, "k8s", "ownership.yaml");
        var ownership = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).IgnoreUnmatchedProperties().Build()
            .Deserialize<OwnershipFile>(File.ReadAllText(path));
        return [.. ownership.Objects.Where(o => o.Owner == "terraform").Select(o => new ObjectRef(o.Kind, string.IsNullOrEmpty(o.Namespace) ? null : o.Namespace, o.Name))];
    }

    private sealed class OwnershipFile
    {
        public List<OwnedObject> Objects { get; set; } = [];
    }

    private sealed class OwnedObject
    {
        public string Kind { get; set; } = "";
        public string? Namespace { get; set; }
        public string Name { get; set; } = "";
        public string Owner { get; set; } = "";
    }

    /// <summary>
    /// repository → repository@digest for every catalog image the rendered objects reference (containers, runtime
    /// images): this run's build, else what the live object runs or names, else the digest of the environment tag in
    /// the registry. Nothing found: stop (local: warn and keep the tag).
    /// </summary>
    private async Task<IReadOnlyDictionary<string, string>> ResolvePinsAsync(IReadOnlyList<KubeObject> objects, KubeCluster? cluster, CancellationToken cancellationToken)
    {
        var report = CurrentBuildReport();
        var images = Catalog.Images.ToDictionary(i => $"{Settings.Registry}/{i.Repository}", StringComparer.Ordinal);
        var referenced = DigestPinning.References(objects, [RuntimeImages], RuntimeImageVariables)
            .Where(r => images.ContainsKey(r.Key))
            .ToDictionary(r => r.Key, r => (IReadOnlyList<ObjectRef>)[.. r.Value.Select(v => v.Object).Distinct()], StringComparer.Ordinal);
        var resolution = await PinResolution.ResolveAsync(referenced, new DigestSources(
            repository => report?[images[repository].Name]?.Digest ?? _imagePlan?.Images.FirstOrDefault(i => i.Name == images[repository].Name)?.Existing?.Digest,
            (repository, carriers, ct) => cluster is null ? Task.FromResult<string?>(null) : LiveDigestAsync(cluster, carriers, repository, ct),
            (repository, ct) => TaggedDigestAsync(images[repository].Repository, ct)), cancellationToken);
        foreach (var pin in resolution.Pins)
            Log.Debug("{Repository}: {Digest} ({Source})", pin.Repository, pin.Digest, pin.Source);
        var names = images.ToDictionary(i => i.Key, i => i.Value.Name, StringComparer.Ordinal);
        if (resolution.MissingFailure(names, Settings.Id, Settings.ImageTag!, Settings.Registry!) is { } failure)
        {
            if (Environment != DeployEnvironment.Local && !IsDryRun)
                throw failure;
            Log.Warning("No digest for {Images} (not built in this run, not running, no {Tag} tag in {Registry}): their tags stay as they are.",
                string.Join(", ", resolution.Missing.Select(m => names[m])), Settings.ImageTag, Settings.Registry);
        }
        return resolution.Map;
    }

    /// <summary>
    /// Read-only, for the release plan: the server-side dry run of the overlay pinned as KustomizeApply would pin it
    /// (reused images by the digest the registry has), or why the cluster cannot be compared.
    /// </summary>
    private async Task<(ApplyReport? Diff, string? NotCompared)> KubernetesDiffAsync(CancellationToken cancellationToken)
    {
        KubeCluster cluster;
        try
        {
            cluster = await ClusterAsync(cancellationToken);
        }
        catch (PrerequisiteMissingException missing)
        {
            return (null, $"no cluster ({missing.Problem})");
        }
        var objects = await RenderAsync(cancellationToken);
        var pinned = DigestPinning.Pin(objects, await ResolvePinsAsync(objects, cluster, cancellationToken), [RuntimeImages], RuntimeImageVariables);
        var plan = await PlanApplyAsync(pinned.Objects, cluster, dryRun: true, cancellationToken);
        // Counts only: KustomizeApply (and its dry run) prints each object's diff.
        return (await new ManifestApplier(cluster, Serilog.Core.Logger.None).ApplyAsync(plan, cancellationToken), null);
    }

    private async Task<string?> TaggedDigestAsync(string repository, CancellationToken cancellationToken)
    {
        if (IsDryRun && !await RegistryReachableAsync(cancellationToken))
            return null;
        try
        {
            return await RegistryClient.GetDigestAsync(repository, Settings.ImageTag!, cancellationToken);
        }
        catch (BuildFailure failure) when (IsDryRun)
        {
            Log.Debug("Registry not checked in dry-run: {Problem}", failure.Problem);
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

    private async Task<ApplyPlan> PlanApplyAsync(IReadOnlyList<KubeObject> objects, KubeCluster cluster, bool dryRun, CancellationToken cancellationToken) =>
        await new ManifestApplier(cluster, Log).PlanAsync(objects, new ApplyOptions { Excluded = TerraformOwnedObjects(), DefaultNamespace = Namespace, DryRun = dryRun }, cancellationToken);

    private string PermissionFix => Environment == DeployEnvironment.Local
        ? "Use a kube context whose user may apply these objects (cluster-admin on kind/minikube/Docker Desktop)."
        : $"Applying manifests needs the admin role (--role admin, the default); you run as {ParameterDescriptor.Kebab(Role.ToString())}. deployer may only restart Deployments in {Namespace} (./build.sh Reload --workloads …).";

    private async Task ApplyKustomizeAsync(CancellationToken cancellationToken)
    {
        var objects = await RenderAsync(cancellationToken);
        KubeCluster? cluster = null;
        try
        {
            cluster = await ClusterAsync(cancellationToken);
        }
        catch (PrerequisiteMissingException missing) when (IsDryRun)
        {
            Log.Warning("No cluster in dry-run ({Problem}): showing the rendered objects and the digests they would get, without a server-side diff.", missing.Problem);
        }
        _pins = await ResolvePinsAsync(objects, cluster, cancellationToken);
        var pinned = DigestPinning.Pin(objects, _pins, [RuntimeImages], RuntimeImageVariables);
        foreach (var change in pinned.Changes.Where(c => c.Object.Kind == "ConfigMap"))
            Note($"runtime image {change.Location}: {change.After}");
        if (cluster is null)
        {
            foreach (var use in WorkloadImages.FromManifests(pinned.Objects).Where(u => u.Image.Repository.StartsWith(Settings.Registry!, StringComparison.Ordinal)))
                Log.Information("[dry-run] {Workload} {Container}: {Image}", use.Workload, use.Container, use.Image);
            Note($"{pinned.Objects.Count} objects rendered from {Settings.Overlay}; {pinned.Changes.Count} image references pinned; not applied (no cluster in dry-run)");
            return;
        }

        var plan = await PlanApplyAsync(pinned.Objects, cluster, IsDryRun, cancellationToken);
        var requirements = PermissionPreflight.ForApply(plan).Concat(PermissionPreflight.ForRollouts(plan.Objects.Select(o => o.Object.Ref).Where(IsWorkload), restart: true));
        await PermissionPreflight.EnsureAsync(cluster, requirements, PermissionFix, cancellationToken);

        await CaptureBeforeAsync(cluster, plan.Objects.Select(o => o.Object.Ref).Where(IsReleaseEntry), cancellationToken);
        _applyReport = await new ManifestApplier(cluster, Log).ApplyAsync(plan, cancellationToken);
        Note(_applyReport.Summary);
        foreach (var diff in _applyReport.Objects.Where(o => o.Diff.Count > 0 && IsDryRun))
            Note($"{diff.Object}: {string.Join("; ", diff.Diff.Take(5))}");
        Report.SetSection("kubernetes", new
        {
            overlay = Settings.Overlay,
            pins = _pins,
            objects = _applyReport.Objects.Select(o => new { @object = o.Object.ToString(), outcome = o.Outcome.ToString().ToLowerInvariant(), o.PodTemplateChanged }),
            rolled = _applyReport.RolledWorkloads.Select(w => w.ToString()),
        });

        // Workloads whose catalog images stayed on a tag (local without a digest) do not roll by themselves. Only catalog
        // images: third-party tags (postgres, redis) are not ours to re-pull, and a no-change redeploy restarts nothing.
        var catalogRepositories = Catalog.Images.Select(i => $"{Settings.Registry}/{i.Repository}").ToHashSet(StringComparer.Ordinal);
        _restartByTag = [.. pinned.Unpinned.Where(u => catalogRepositories.Contains(u.Image.Repository)).Select(u => u.Workload).Where(IsWorkload).Distinct()];
        // The runtime-images ConfigMap keeps its name, so its readers do not roll when a value changes.
        if (_applyReport.Objects.Any(o => o.Object.Matches(RuntimeImages) && o.Outcome == ApplyOutcome.Configured))
            _restartByTag = [.. _restartByTag.Concat(ReadersOf(pinned.Objects, RuntimeImages.Name)).Distinct()];
    }

    private List<ObjectRef> _restartByTag = [];

    private static bool IsWorkload(ObjectRef o) => o.Kind is "Deployment" or "DaemonSet" or "StatefulSet";

    /// <summary>What a release records, promotes and rolls back: workloads, CronJobs (they run the backend image) and the run-time images.</summary>
    private static bool IsReleaseEntry(ObjectRef o) => IsWorkload(o) || o.Kind == "CronJob" || o.Matches(RuntimeImages);

    private static IEnumerable<ObjectRef> ReadersOf(IEnumerable<KubeObject> objects, string configMap) =>
        objects.Where(o => IsWorkload(o.Ref) && o.Body["spec"]?["template"]?.ToJsonString().Contains($"\"{configMap}\"", StringComparison.Ordinal) == true).Select(o => o.Ref);

    private async Task RestartRolloutsAsync(CancellationToken cancellationToken)
    {
        var cluster = await ClusterAsync(cancellationToken);
        _restarter ??= new RolloutRestarter(cluster, Log, IsDryRun);
        _restarter.MarkRolled(_applyReport?.RolledWorkloads ?? []);
        foreach (var workload in _restartByTag)
        {
            var outcome = await _restarter.RestartAsync(workload, cancellationToken);
            if (outcome == RestartOutcome.Restarted)
                _restarted.Add(workload);
        }
        Note(_restarted.Count == 0 ? "nothing to restart: every changed workload rolled through its new digest" : $"restarted {string.Join(", ", _restarted)}");
    }

    private async Task WaitForRolloutsAsync(CancellationToken cancellationToken)
    {
        var deadline = RolloutDeadlines.ValidateOverride(RolloutTimeout);
        var workloads = (_applyReport?.RolledWorkloads ?? []).Concat(_restarted).Where(IsWorkload).Distinct().ToList();
        if (workloads.Count == 0)
        {
            Note("no workload changed: nothing to wait for");
            return;
        }
        if (IsDryRun)
        {
            Note($"would wait for {string.Join(", ", workloads)}");
            return;
        }
        var cluster = await ClusterAsync(cancellationToken);
        var report = await new RolloutWaiter(cluster, Log).WaitAsync(
            [.. workloads.Select(w => new RolloutTarget(w))],
            // The waiter logs each workload's progress itself; logging it here too printed every line twice.
            new RolloutWaitOptions
            {
                DeadlineOverride = deadline,
                PushedDigests = CurrentBuildReport()?.Images.Where(i => i.Digest is not null).ToDictionary(i => i.Image, i => i.Digest!, StringComparer.Ordinal),
            },
            cancellationToken);
        _rolloutReport = report;
        Report.SetSection("rollouts", report.Results.Select(r => new { workload = r.Workload.ToString(), outcome = r.Outcome.ToString().ToLowerInvariant(), r.Message, seconds = Math.Round(r.Duration.TotalSeconds, 1), problems = r.Problems.Select(p => p.ToString()) }));
        foreach (var result in report.Results)
            Note($"{result.Workload.Name}: {result.Outcome.ToString().ToLowerInvariant()} ({Durations.Format(result.Duration)})");
        if (!report.AllSucceeded && RollbackOnFailure)
            await RollBackThisRunAsync(cancellationToken);
        report.ThrowIfFailed();
    }

    private RolloutWaitReport? _rolloutReport;
}
