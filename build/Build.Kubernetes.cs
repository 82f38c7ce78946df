using System.Text.Json.Nodes;
using k8s;
using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

internal sealed partial class Build
{
    private const string Namespace = PlatformWorkloads.Namespace;
    private static readonly ObjectRef RuntimeImages = new("ConfigMap", Namespace, "tesslate-runtime-images");

    /// <summary>The connection to the cluster this run acts on now, if one was made (a cluster_name adopted from Terraform's outputs gets its own).</summary>
    private KubeCluster? ConnectedCluster => _run.Clusters.GetValueOrDefault(ClusterKey)?.ValueOrDefault;

    private string ClusterKey => Environment == DeployEnvironment.Local ? $"context:{KubeContext}" : Settings.ClusterName ?? "";

    /// <summary>What KustomizeApply hands to RolloutRestart, WaitRollout and the release record.</summary>
    private sealed record AppliedRelease(DesiredState Main, DesiredState? Compute, ApplyReport Report, PlannedState? ComputePlan, ApplyReport? ComputeFirst, IReadOnlyList<ObjectRef> RestartByTag);

    private void TookOver(IEnumerable<AppliedObject> objects)
    {
        foreach (var taken in objects.Where(o => o.TakenOverFrom.Count > 0))
            _run.TakenOver.Enqueue(taken);
    }

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

    /// <summary>Container env variables whose values are catalog image references (the backend starts these images).</summary>
    private IEnumerable<string> RuntimeImageVariables => Catalog.Images.Where(i => i.RuntimeReferenced).Select(i => $"K8S_{i.Name.ToUpperInvariant()}_IMAGE");

    /// <summary>
    /// The overlays name the environment's default registry; with --registry (or another account/region) the catalog
    /// images are elsewhere, so their references move there before pinning (which keys pins by Settings.Registry).
    /// </summary>
    private IReadOnlyList<KubeObject> RetargetRegistry(string overlay, IReadOnlyList<KubeObject> rendered)
    {
        var overlayRegistry = EnvironmentTable.Defaults(Environment).Registry;
        if (overlayRegistry is null || overlayRegistry == Settings.Registry)
            return rendered;
        Log.Information("Catalog image references of {Overlay} moved from {From} to {To}.", overlay, overlayRegistry, Settings.Registry);
        return RegistryRetargeting.Retarget(rendered, overlayRegistry, Settings.Registry!, Catalog.Images.Select(i => i.Repository),
            [RuntimeImages], RuntimeImageVariables, ["APP_IMAGE_REGISTRY_PREFIX"]);
    }

    /// <summary>Objects Terraform owns (k8s/ownership.yaml) are never applied from an aws overlay.</summary>
    private IReadOnlyList<ObjectRef> TerraformOwnedObjects() =>
        Environment == DeployEnvironment.Local ? [] : ObjectOwnership.OwnedByTerraform(ObjectOwnership.PathIn(RootDirectory));

    /// <summary>The overlays a release applies: the main one, then the compute layer where the environment has one.</summary>
    private IReadOnlyList<Overlay> ReleaseOverlays => ComputeLayer is { } compute ? [MainOverlay, compute] : [MainOverlay];

    /// <summary>
    /// Read-only, for the release plan: the guard (with what runs in place of images not built yet) and, when every
    /// image is known, the server-side dry run of the overlays pinned as KustomizeApply will pin them; or why the
    /// cluster cannot be compared.
    /// </summary>
    private async Task<(ApplyReport? Diff, string? NotCompared, GuardReport? Guard)> KubernetesDiffAsync(IReadOnlyList<string> builtLater, CancellationToken cancellationToken)
    {
        KubeCluster cluster;
        try
        {
            cluster = await ClusterAsync(cancellationToken);
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

    private async Task<ApplyPlan> PlanApplyAsync(IReadOnlyList<KubeObject> objects, KubeCluster cluster, bool dryRun, string defaultNamespace, CancellationToken cancellationToken) =>
        await new ManifestApplier(cluster, Log).PlanAsync(objects, new ApplyOptions { Excluded = TerraformOwnedObjects(), DefaultNamespace = defaultNamespace, DryRun = dryRun }, cancellationToken);

    private string PermissionFix => Environment == DeployEnvironment.Local
        ? "Use a kube context whose user may apply these objects (cluster-admin on kind/minikube/Docker Desktop)."
        : $"Applying manifests needs the admin role (--role admin, the default); you run as {ParameterDescriptor.Kebab(Role.ToString())}. deployer may only restart Deployments in {Namespace} (./build.sh Reload --workloads …).";

    private async Task ApplyKustomizeAsync(CancellationToken cancellationToken)
    {
        KubeCluster? cluster = null;
        try
        {
            cluster = await ClusterAsync(cancellationToken);
        }
        catch (PrerequisiteMissingException missing) when (IsDryRun)
        {
            Log.Warning("No cluster in dry-run ({Problem}): showing the rendered objects and the digests they would get, without a server-side diff.", missing.Problem);
        }
        var states = await DesiredStatesAsync(ReleaseOverlays, cluster, PinPurpose.Apply, cancellationToken);
        var desired = states[0];
        var compute = states.Count > 1 ? states[1] : null;
        if (compute is null)
            Note($"{Settings.Id} has no compute layer (the btrfs CSI driver and the Volume Hub run on beta and production)");
        foreach (var change in desired.Pinning.Changes.Where(c => c.Object.Kind == "ConfigMap"))
            Note($"runtime image {change.Location}: {change.After}");
        if (cluster is null)
        {
            foreach (var state in states)
                foreach (var use in WorkloadImages.FromManifests(state.Objects).Where(u => u.Image.Repository.StartsWith(Settings.Registry!, StringComparison.Ordinal)))
                    Log.Information("[dry-run] {Workload} {Container}: {Image}", use.Workload, use.Container, use.Image);
            Note($"{states.Sum(s => s.Objects.Count)} objects rendered from {string.Join(" and ", states.Select(s => s.Overlay))}; {states.Sum(s => s.Pinning.Changes.Count)} image references pinned; not applied (no cluster in dry-run)");
            return;
        }

        // Right before the first change, on the final pins: the server's refusals, the data volumes, the takeovers.
        var guarded = await GuardAsync(states, cluster, IsDryRun ? Log : Serilog.Core.Logger.None, cancellationToken);
        EnforceGuard(DeployRelease, guarded.Guard);
        var main = guarded.Of(desired);
        var computePlan = compute is null ? null : guarded.Of(compute);
        var plans = guarded.Plans.Select(p => p.Plan).ToList();
        var requirements = plans.SelectMany(PermissionPreflight.ForApply)
            .Concat(PermissionPreflight.ForRollouts(plans.SelectMany(p => p.Objects).Select(o => o.Object.Ref).Where(IsWorkload), restart: true));
        await PermissionPreflight.EnsureAsync(cluster, requirements, PermissionFix, cancellationToken);

        await CaptureBeforeAsync(DeployRelease, cluster, plans.SelectMany(p => p.Objects).Select(o => o.Object.Ref).Where(IsReleaseEntry), cancellationToken);
        var applier = new ManifestApplier(cluster, Log);
        ApplyReport report;
        ApplyReport? computeFirst = null;
        if (IsDryRun)
        {
            report = main.DryRun;
            if (computePlan is not null)
                Note($"compute overlay {compute!.Overlay}: {computePlan.DryRun.Summary}; would apply all but {PlatformWorkloads.VolumeHub} first, then {PlatformWorkloads.VolumeHub} once the rollouts it starts completed");
        }
        else
        {
            report = await applier.ApplyAsync(main.ToApply, cancellationToken);
            if (computePlan is not null)
            {
                // The compute layer after the main overlay; the Volume Hub keeps what it runs until WaitRollout saw the CSI nodes through.
                computeFirst = await applier.ApplyAsync(ComputeRelease.FirstStep(computePlan.ToApply), cancellationToken);
                Note($"compute overlay, step 1 (all but {PlatformWorkloads.VolumeHub.Name}): {computeFirst.Summary}");
            }
        }
        TookOver([.. report.TakenOver, .. computeFirst?.TakenOver ?? []]);
        Note(report.Summary);
        foreach (var diff in report.Objects.Where(o => o.Diff.Count > 0 && IsDryRun))
            Note($"{diff.Object}: {string.Join("; ", diff.Diff.Take(5))}");
        Report.SetSection("kubernetes", new
        {
            overlay = Settings.Overlay,
            computeOverlay = compute?.Overlay,
            pins = desired.Pins,
            objects = report.Objects.Concat(computeFirst?.Objects ?? []).Select(o => new { @object = o.Object.ToString(), outcome = o.Outcome.ToString().ToLowerInvariant(), o.PodTemplateChanged }),
            rolled = report.RolledWorkloads.Concat(computeFirst?.RolledWorkloads ?? []).Select(w => w.ToString()),
            takenOver = _run.TakenOver.Select(t => new { @object = t.Object.ToString(), from = t.TakenOverFrom }),
        });

        // Workloads whose catalog images stayed on a tag (local without a digest) do not roll by themselves. Only catalog
        // images: third-party tags (postgres, redis) are not ours to re-pull, and a no-change redeploy restarts nothing.
        var catalogRepositories = CatalogRepositories;
        IEnumerable<ObjectRef> restartByTag = desired.Pinning.Unpinned.Where(u => catalogRepositories.Contains(u.Image.Repository)).Select(u => u.Workload).Where(IsWorkload);
        // The runtime-images ConfigMap keeps its name, so its readers do not roll when a value changes.
        if (report.Objects.Any(o => o.Object.Matches(RuntimeImages) && o.Outcome == ApplyOutcome.Configured && !JsonNode.DeepEquals(o.Live?["data"], o.Result?["data"])))
            restartByTag = restartByTag.Concat(ReadersOf(desired.Objects, RuntimeImages.Name));
        _run.Applied.Set(new AppliedRelease(desired, compute, report, computePlan, computeFirst, [.. restartByTag.Distinct()]));
    }

    private static bool IsWorkload(ObjectRef o) => o.Kind is "Deployment" or "DaemonSet" or "StatefulSet";

    /// <summary>What a release records, promotes and rolls back: workloads, CronJobs (they run the backend image) and the run-time images.</summary>
    private static bool IsReleaseEntry(ObjectRef o) => IsWorkload(o) || o.Kind == "CronJob" || o.Matches(RuntimeImages);

    private static IEnumerable<ObjectRef> ReadersOf(IEnumerable<KubeObject> objects, string configMap) =>
        objects.Where(o => IsWorkload(o.Ref) && o.Body["spec"]?["template"]?.ToJsonString().Contains($"\"{configMap}\"", StringComparison.Ordinal) == true).Select(o => o.Ref);

    private async Task RestartRolloutsAsync(CancellationToken cancellationToken)
    {
        var applied = _run.Applied.ValueOrDefault;
        var cluster = await ClusterAsync(cancellationToken);
        var restarter = new RolloutRestarter(cluster, Log, IsDryRun);
        restarter.MarkRolled(applied?.Report.RolledWorkloads ?? []);
        var restarted = new List<ObjectRef>();
        foreach (var workload in applied?.RestartByTag ?? [])
        {
            if (await restarter.RestartAsync(workload, cancellationToken) == RestartOutcome.Restarted)
                restarted.Add(workload);
        }
        _run.Restarted.Set(restarted);
        Note(restarted.Count == 0 ? "nothing to restart: every changed workload rolled through its new digest" : $"restarted {string.Join(", ", restarted)}");
    }

    private async Task WaitForRolloutsAsync(CancellationToken cancellationToken)
    {
        var deadline = RolloutDeadlines.ValidateOverride(RolloutTimeout, "--rollout-timeout");
        var applied = _run.Applied.ValueOrDefault;
        var workloads = (applied?.Report.RolledWorkloads ?? []).Concat(_run.Restarted.ValueOrDefault ?? []).Where(IsWorkload).Distinct().Select(w => new RolloutTarget(w))
            .Concat(applied?.ComputeFirst is { } first ? ComputeRelease.FirstStepTargets(first) : []).ToList();
        if (IsDryRun)
        {
            Note(workloads.Count == 0 ? "no workload changed: nothing to wait for" : $"would wait for {string.Join(", ", workloads.Select(w => w.Workload))}");
            return;
        }
        if (workloads.Count == 0 && applied?.ComputePlan is null)
        {
            Note("no workload changed: nothing to wait for");
            return;
        }
        var cluster = await ClusterAsync(cancellationToken);
        var waiter = new RolloutWaiter(cluster, Log);
        var options = new RolloutWaitOptions
        {
            DeadlineOverride = deadline,
            PushedDigests = CurrentBuildReport()?.Images.Where(i => i.Digest is not null).ToDictionary(i => i.Image, i => i.Digest!, StringComparer.Ordinal),
            Fixes = PodTroubleshooting.Fix,
            AfterOutage = AfterRolloutOutage,
        };
        // The waiter logs each workload's progress itself; logging it here too printed every line twice.
        var report = await waiter.WaitAsync(workloads, options, cancellationToken);
        if (applied?.ComputePlan is { } computePlan)
        {
            if (ComputeRelease.HubHeldBecause(report) is { } held)
                Note(held);
            else
            {
                // Step 2 of the compute layer: the Volume Hub gets its new digest only now that the CSI nodes are through.
                var second = await new ManifestApplier(cluster, Log).ApplyAsync(ComputeRelease.SecondStep(computePlan.ToApply), cancellationToken);
                Note($"compute overlay, step 2 ({PlatformWorkloads.VolumeHub.Name}): {second.Summary}");
                TookOver(second.TakenOver);
                if (second.RolledWorkloads.Count > 0)
                    report = new RolloutWaitReport([.. report.Results, .. (await waiter.WaitAsync([.. second.RolledWorkloads.Select(w => new RolloutTarget(w))], options, cancellationToken)).Results]);
            }
        }
        _run.RolledOut.Set(report);
        Report.SetSection("rollouts", report.Results.Select(r => new { workload = r.Workload.ToString(), outcome = r.Outcome.ToString().ToLowerInvariant(), r.Message, seconds = Math.Round(r.Duration.TotalSeconds, 1), problems = r.Problems.Select(p => p.ToString()) }));
        foreach (var result in report.Results)
            Note($"{result.Workload.Name}: {result.Outcome.ToString().ToLowerInvariant()} ({Durations.Format(result.Duration)})");
        if (report.Results.Count == 0)
            Note("no workload changed: nothing to wait for");
        if (!report.AllSucceeded && RollbackOnFailure)
            await RollBackThisRunAsync(DeployRelease, cancellationToken);
        report.ThrowIfFailed(options.AfterOutage);
    }
}
