using System.Text.Json.Nodes;
using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes;

/// <summary>What to roll back to.</summary>
public abstract record RollbackSource
{
    /// <summary>Undo the newest release (or, when the newest failed, return to the last successful one).</summary>
    public sealed record Previous : RollbackSource;

    /// <summary>The state a recorded release produced (<c>--release 17</c>).</summary>
    public sealed record Release(string Id) : RollbackSource;

    /// <summary>The digests an immutable tag names in the registry (<c>--to-tag git-&lt;sha&gt;</c>).</summary>
    public sealed record Tag(string Name) : RollbackSource;
}

/// <summary>
/// How the caller's user chooses what to roll back (the pipeline: <c>--release &lt;id&gt;</c>, <c>--to-tag git-&lt;sha&gt;</c>,
/// <c>--workloads a,b</c>), for the fixes of a rollback that cannot be planned.
/// </summary>
public sealed record RollbackChoices(string Release, string Tag, string Workloads)
{
    /// <summary>Plain words, for callers without options of their own.</summary>
    public static RollbackChoices Plain { get; } = new("a release id", "git-<sha>", "workload names");
}

/// <summary>One workload's containers to set: container name → image reference.</summary>
public sealed record WorkloadRestore(ObjectRef Workload, IReadOnlyDictionary<string, string> Images);

public sealed record RollbackPlan(string Description, IReadOnlyList<WorkloadRestore> Restores, string? RestoredRelease = null);

/// <summary>Computes what a rollback restores, from the history, a tag, or the current run's "before".</summary>
public static class RollbackPlanner
{
    public static RollbackPlan FromHistory(IReadOnlyList<ReleaseRecord> history, RollbackSource source, IReadOnlyCollection<string>? workloads, string historyDisplay,
        RollbackChoices? choices = null)
    {
        choices ??= RollbackChoices.Plain;
        if (history.Count == 0)
            throw new UsageException($"There is no release history to roll back to ({historyDisplay} is empty or missing).",
                $"Deploy at least once (each deploy records a release), or roll back to an image tag with {choices.Tag}.");
        // The newest release that changed what runs (or failed): a Scale, a SafeShutdown or a plain restart after a
        // deploy is not what "the previous release" means.
        var index = history.Count - 1;
        while (index > 0 && history[index].Outcome == ReleaseOutcome.Succeeded && !history[index].ChangedImages)
            index--;
        var newest = history[index];
        var upToNewest = history.Take(index + 1).ToList();
        switch (source)
        {
            case RollbackSource.Release(var id):
                var release = ReleaseLog.Find(history, id)
                    ?? throw new UsageException($"There is no release #{id.TrimStart('#')} in {historyDisplay}. Recent releases:{Environment.NewLine}{ReleaseLog.Recent(history)}",
                        $"Pass one of the ids listed ({choices.Release}).");
                if (release.Outcome != ReleaseOutcome.Succeeded)
                    throw new UsageException($"Release #{release.Id} did not succeed ({release.Outcome}); its state is not one to return to. Recent releases:{Environment.NewLine}{ReleaseLog.Recent(history)}",
                        "Pick a release whose outcome is Succeeded.");
                return new RollbackPlan($"back to release {release.Summary}", Select(release.Workloads.Select(w => new WorkloadRestore(w.Workload, w.ImagesAfter)), workloads, choices), release.Id);
            case RollbackSource.Previous:
                if (newest.Outcome == ReleaseOutcome.Succeeded)
                    return new RollbackPlan($"undo release {newest.Summary}",
                        Select(newest.Workloads.Where(w => w.ImagesChanged && w.ImagesBefore.Count > 0).Select(w => new WorkloadRestore(w.Workload, w.ImagesBefore)), workloads, choices),
                        LastWithImages(upToNewest.Take(upToNewest.Count - 1).ToList())?.Id);
                var good = LastWithImages(upToNewest)
                    ?? throw new UsageException($"No successful release in {historyDisplay} to return to. Recent releases:{Environment.NewLine}{ReleaseLog.Recent(history)}",
                        $"Roll back to an image tag with {choices.Tag}.");
                return new RollbackPlan($"back to the last successful release {good.Summary} (the newest, #{newest.Id}, {newest.Outcome})",
                    Select(good.Workloads.Select(w => new WorkloadRestore(w.Workload, w.ImagesAfter)), workloads, choices), good.Id);
            default:
                throw new ArgumentException($"Use {nameof(FromTagAsync)} for {source}.", nameof(source));
        }
    }

    /// <summary>The newest (successful) record that names images: a Scale or SafeShutdown record names none.</summary>
    private static ReleaseRecord? LastWithImages(IReadOnlyList<ReleaseRecord> history, bool successfulOnly = true) =>
        history.LastOrDefault(r => (!successfulOnly || r.Outcome == ReleaseOutcome.Succeeded) && r.Workloads.Any(w => w.ImagesAfter.Count > 0));

    /// <summary>
    /// Back to a tag: every container of the newest release's workloads whose repository has the tag gets the digest
    /// the tag names; repositories without the tag keep what they run.
    /// </summary>
    public static async Task<RollbackPlan> FromTagAsync(IReadOnlyList<ReleaseRecord> history, string tag, IImageTagger tagger, IReadOnlyCollection<string>? workloads,
        string historyDisplay, CancellationToken cancellationToken, RollbackChoices? choices = null)
    {
        choices ??= RollbackChoices.Plain;
        if (history.Count == 0)
            throw new UsageException($"There is no release history to find the workloads of ({historyDisplay} is empty or missing).",
                "Deploy at least once first (each deploy records a release and its workloads).");
        var current = Select((LastWithImages(history, successfulOnly: false) ?? history[^1]).Workloads.Select(w => new WorkloadRestore(w.Workload, w.ImagesAfter)), workloads, choices);
        var repositories = current.SelectMany(r => r.Images.Values).Select(i => ImageReference.Parse(i).Repository).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var repository in repositories)
            if (await tagger.ResolveDigestAsync(repository, tag, cancellationToken) is { } digest)
                digests[repository] = digest;
        if (digests.Count == 0)
            throw new UsageException($"No image of the selected workloads has the tag {tag} (looked in {string.Join(", ", repositories)}). Recent releases:{Environment.NewLine}{ReleaseLog.Recent(history)}",
                $"Check the tag (git-<full commit sha> of a commit that was built), or roll back to a release with {choices.Release}.");
        var restores = current
            .Select(r => new WorkloadRestore(r.Workload, r.Images
                .Where(c => digests.ContainsKey(ImageReference.Parse(c.Value).Repository))
                .ToDictionary(c => c.Key, c => $"{ImageReference.Parse(c.Value).Repository}@{digests[ImageReference.Parse(c.Value).Repository]}")))
            .Where(r => r.Images.Count > 0)
            .ToList();
        return new RollbackPlan($"to tag {tag} ({string.Join(", ", digests.Select(d => $"{d.Key}@{d.Value[..Math.Min(19, d.Value.Length)]}"))})", restores);
    }

    /// <summary><c>--rollback-on-failure</c>: every workload this run changed goes back to what it ran before the run.</summary>
    public static RollbackPlan FromRun(IReadOnlyList<WorkloadRelease> changes) =>
        new("back to what ran before this run",
            [.. changes.Where(c => c.ImagesChanged && c.ImagesBefore.Count > 0).Select(c => new WorkloadRestore(c.Workload, c.ImagesBefore))]);

    private static IReadOnlyList<WorkloadRestore> Select(IEnumerable<WorkloadRestore> restores, IReadOnlyCollection<string>? names, RollbackChoices choices)
    {
        var all = restores.ToList();
        if (names is null || names.Count == 0)
            return all;
        var unknown = names.Where(n => !all.Any(r => Matches(r.Workload, n))).ToList();
        if (unknown.Count > 0)
            throw new UsageException($"Unknown workload(s) for this rollback: {string.Join(", ", unknown)}. The release has: {string.Join(", ", all.Select(r => r.Workload.Name).Distinct())}.",
                $"Choose names from that list ({choices.Workloads}).");
        return [.. all.Where(r => names.Any(n => Matches(r.Workload, n)))];
    }

    private static bool Matches(ObjectRef workload, string name) =>
        string.Equals(workload.Name, name, StringComparison.Ordinal)
        || string.Equals($"{workload.Kind}/{workload.Name}", name, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Who rolls back, and what else the rollback does: record it, move the environment tag back.</summary>
public sealed record RollbackContext(LockHolder Actor, string? GitSha, RolloutWaitOptions Wait)
{
    /// <summary>The environment tag to move back to the restored digests (null: leave tags alone).</summary>
    public string? EnvironmentTag { get; init; }

    /// <summary>Repositories whose <c>latest</c> tag moves with the environment tag.</summary>
    public IReadOnlySet<string>? AlsoLatest { get; init; }

    public bool DryRun { get; init; }

    /// <summary>
    /// Workloads that read a restored ConfigMap (runtime images) at start: restarted after it changes, unless the
    /// rollback rolls them anyway.
    /// </summary>
    public IReadOnlyDictionary<ObjectRef, IReadOnlyList<ObjectRef>> Readers { get; init; } = new Dictionary<ObjectRef, IReadOnlyList<ObjectRef>>();

    public string FieldManager { get; init; } = FieldManagers.Pipeline;

    /// <summary>
    /// Repositories a rollback may restore by digest only (the catalog's): a recorded tag reference of one is left as
    /// it runs, with a warning, so no rollback applies an unpinned catalog image.
    /// </summary>
    public Func<string, bool> DigestOnly { get; init; } = _ => false;

    /// <summary>
    /// Workload → the workload whose rollout must complete before it is restored (the Volume Hub after the CSI node
    /// DaemonSet). Not restored when that rollout fails.
    /// </summary>
    public IReadOnlyDictionary<ObjectRef, ObjectRef> After { get; init; } = new Dictionary<ObjectRef, ObjectRef>();
}

public sealed record RollbackResult(RollbackPlan Plan, IReadOnlyList<WorkloadRelease> Changes, RolloutWaitReport Rollouts, ReleaseRecord? Recorded, PromotionResult? Tags)
{
    public bool Succeeded => Rollouts.AllSucceeded;
}

/// <summary>
/// Applies a rollback plan: a strategic-merge patch of the pod template's container images (container name →
/// image) or of the runtime-images ConfigMap (key → image, its readers restarted), a wait for the rollouts, a
/// Rollback record in the history, and the environment tags moved back.
/// </summary>
public sealed class ReleaseRollback(KubeCluster cluster, ReleaseHistory? history, TagPromotion? promotion, ILogger logger)
{
    public async Task<RollbackResult> ExecuteAsync(RollbackPlan plan, RollbackContext context, CancellationToken cancellationToken)
    {
        logger.Information("Rollback {Description}", plan.Description);
        var snapshot = new WorkloadSnapshot(cluster);
        var before = await snapshot.CaptureAsync(plan.Restores.Select(r => r.Workload), cancellationToken);
        var changes = new List<WorkloadRelease>();
        var toPatch = new List<(ObjectRef Workload, IReadOnlyDictionary<string, string> Images)>();
        foreach (var restore in plan.Restores)
        {
            var live = before.First(b => b.Workload.Matches(restore.Workload));
            if (!live.Exists)
            {
                logger.Warning("[{Workload}] does not exist any more; not rolled back", restore.Workload);
                continue;
            }
            var wanted = restore.Images.Where(i => live.Images.ContainsKey(i.Key) && live.Images[i.Key] != i.Value).ToDictionary(i => i.Key, i => i.Value);
            foreach (var (container, image) in wanted.Where(w => ImageReference.Parse(w.Value) is var r && r.Digest is null && context.DigestOnly(r.Repository)).ToList())
            {
                logger.Warning("[{Workload}] {Container}: recorded as {Image}, a tag, not a digest: left as it runs (restore it by its git-<sha> tag)", restore.Workload, container, image);
                wanted.Remove(container);
            }
            foreach (var gone in restore.Images.Keys.Where(k => !live.Images.ContainsKey(k)))
                logger.Warning("[{Workload}] has no container {Container} any more; left as it is", restore.Workload, gone);
            var after = new SortedDictionary<string, string>(live.Images.ToDictionary(), StringComparer.Ordinal);
            foreach (var (container, image) in wanted)
                after[container] = image;
            changes.Add(new WorkloadRelease(live.Workload, live.Images, after, live.Replicas, live.Replicas));
            if (wanted.Count == 0)
            {
                logger.Information("[{Workload}] already runs the images to restore", restore.Workload);
                continue;
            }
            foreach (var (container, image) in wanted)
                logger.Information("[{Workload}] {Container}: {From} → {To}{DryRun}", live.Workload, container, live.Images[container], image, context.DryRun ? " (dry run)" : "");
            toPatch.Add((live.Workload, wanted));
        }

        if (context.DryRun)
        {
            var plannedTags = promotion is not null && context.EnvironmentTag is { } tag
                ? new PromotionResult(await promotion.PlanAsync(new PromotionRequest(Restored(changes), tag, context.AlsoLatest), cancellationToken), DryRun: true)
                : null;
            foreach (var move in plannedTags?.Moves ?? [])
                logger.Information("[dry-run] would move {Move}", move.ToString());
            return new RollbackResult(plan, changes, new RolloutWaitReport([]), null, plannedTags);
        }

        // Two phases when an order is asked for: a workload held behind another is restored once that one rolled.
        IReadOnlyList<RolloutResult> results = [];
        var held = toPatch.Where(p => context.After.Any(a => a.Key.Matches(p.Workload) && toPatch.Any(o => a.Value.Matches(o.Workload)))).ToList();
        foreach (var phase in new[] { toPatch.Except(held).ToList(), held })
        {
            if (phase.Count == 0)
                continue;
            if (results.Any(r => !r.OnNewVersion))
            {
                foreach (var (workload, _) in phase)
                {
                    logger.Warning("[{Workload}] not rolled back: the rollout it waits for did not complete", workload);
                    var skipped = changes.FindIndex(c => c.Workload.Matches(workload));
                    changes[skipped] = changes[skipped] with { ImagesAfter = changes[skipped].ImagesBefore };
                }
                continue;
            }
            var patched = new List<ObjectRef>();
            foreach (var (workload, images) in phase)
            {
                await PatchImagesAsync(workload, images, context.FieldManager, cancellationToken);
                patched.Add(workload);
            }
            var restarter = new RolloutRestarter(cluster, logger, fieldManager: context.FieldManager);
            restarter.MarkRolled(patched.Where(w => PodTemplates.RolloutKind(w.Kind) is not null));
            foreach (var reader in patched.Where(p => p.Kind == "ConfigMap").SelectMany(c => context.Readers.FirstOrDefault(r => r.Key.Matches(c)).Value ?? []))
                await restarter.RestartAsync(reader, cancellationToken);
            results = [.. results, .. (await new RolloutWaiter(cluster, logger).WaitAsync([.. restarter.Rolled.Select(w => new RolloutTarget(w))], context.Wait, cancellationToken)).Results];
        }
        var rollouts = new RolloutWaitReport(results);
        ReleaseRecord? recorded = null;
        if (history is not null)
            recorded = await history.AppendAsync(new ReleaseRecord("", ReleaseKind.Rollback, context.Actor.RunId, context.Actor.Who, context.Actor.Where,
                DateTimeOffset.UtcNow, context.GitSha, rollouts.AllSucceeded ? ReleaseOutcome.Succeeded : ReleaseOutcome.Failed, changes,
                Restored(changes), $"Rollback {plan.Description}", plan.RestoredRelease), cancellationToken);
        PromotionResult? tags = null;
        if (promotion is not null && context.EnvironmentTag is { } environmentTag)
            tags = await promotion.PromoteAsync(new PromotionRequest(Restored(changes), environmentTag, context.AlsoLatest), rollouts, dryRun: false, cancellationToken);
        return new RollbackResult(plan, changes, rollouts, recorded, tags);
    }

    /// <summary>repository → digest of the images the rollback restored.</summary>
    private static IReadOnlyDictionary<string, string> Restored(IEnumerable<WorkloadRelease> changes) =>
        WorkloadSnapshot.DeployedDigests(changes.Where(c => c.ImagesChanged).Select(c => new WorkloadState(c.Workload,
            c.ImagesAfter.Where(a => c.ImagesBefore.GetValueOrDefault(a.Key) != a.Value).ToDictionary(), c.ReplicasAfter)));

    /// <summary>Sets container images (or a runtime-images ConfigMap's values) by strategic-merge patch (lists merge by container name).</summary>
    private async Task PatchImagesAsync(ObjectRef workload, IReadOnlyDictionary<string, string> images, string fieldManager, CancellationToken cancellationToken)
    {
        var kind = PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind;
        var resource = await cluster.RequireAsync(WorkloadSnapshot.ApiVersionOf(kind), kind, cancellationToken);
        if (kind == "ConfigMap")
        {
            var data = new JsonObject();
            foreach (var (key, image) in images)
                data[key] = image;
            await cluster.StrategicPatchAsync(resource, workload.Namespace, workload.Name, new JsonObject { ["data"] = data }, fieldManager, cancellationToken);
            return;
        }
        var live = await cluster.GetAsync(resource, workload.Namespace, workload.Name, cancellationToken)
            ?? throw new BuildFailure($"{workload} disappeared during the rollback.");
        var podSpec = PodTemplates.PodSpec(new KubeObject(live))!;
        var patchSpec = new JsonObject();
        foreach (var field in new[] { "initContainers", "containers" })
        {
            var names = podSpec[field]?.AsArray().OfType<JsonObject>().Select(c => (string?)c["name"]).ToHashSet() ?? [];
            var list = new JsonArray([.. images.Where(i => names.Contains(i.Key)).Select(i => (JsonNode)new JsonObject { ["name"] = i.Key, ["image"] = i.Value })]);
            if (list.Count > 0)
                patchSpec[field] = list;
        }
        var template = new JsonObject { ["spec"] = patchSpec };
        var patch = kind == "CronJob"
            ? new JsonObject { ["spec"] = new JsonObject { ["jobTemplate"] = new JsonObject { ["spec"] = new JsonObject { ["template"] = template } } } }
            : new JsonObject { ["spec"] = new JsonObject { ["template"] = template } };
        var patched = await cluster.StrategicPatchAsync(resource, workload.Namespace, workload.Name, patch, fieldManager, cancellationToken);
        await ObservedAsync(resource, workload, (long?)patched["metadata"]?["generation"] ?? 0, cancellationToken);
    }

    /// <summary>
    /// Waits until the controller has seen the patch: before that, the workload's status and "newest" pods are the
    /// failed revision's, which a rollout wait would report as the rollback failing.
    /// </summary>
    private async Task ObservedAsync(ApiResource resource, ObjectRef workload, long generation, CancellationToken cancellationToken)
    {
        if (PodTemplates.RolloutKind(workload.Kind) is null)
            return;
        var deadline = DateTime.UtcNow + ObservationTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var live = await cluster.GetAsync(resource, workload.Namespace, workload.Name, cancellationToken);
            if (live is null || ((long?)live["status"]?["observedGeneration"] ?? 0) >= generation)
                return;
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
        logger.Warning("[{Workload}] the controller has not observed the rollback after {Timeout}; following the rollout anyway", workload, Durations.Format(ObservationTimeout));
    }

    private static readonly TimeSpan ObservationTimeout = TimeSpan.FromSeconds(30);
}
