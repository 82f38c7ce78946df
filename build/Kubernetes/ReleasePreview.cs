using Serilog;

namespace Tesslate.Build.Kubernetes;

/// <summary>What <c>--dry-run</c> says about a release: the lock's state, the record that would be written, the tags that would move.</summary>
public sealed record ReleasePreview(DeployLockState Lock, ReleaseRecord Record, IReadOnlyList<TagMove> Tags)
{
    public IReadOnlyList<string> Lines()
    {
        var lines = new List<string> { $"Deploy lock: {Lock.Description}", $"Release that would be recorded: {Record.Summary}" };
        lines.AddRange(Record.Workloads.Where(w => w.ImagesChanged).SelectMany(w => w.ImagesAfter
            .Where(a => w.ImagesBefore.GetValueOrDefault(a.Key) != a.Value)
            .Select(a => $"  {w.Workload} {a.Key}: {w.ImagesBefore.GetValueOrDefault(a.Key) ?? "(new)"} → {a.Value}")));
        lines.AddRange((Record.TakenOver ?? []).Select(t => $"  takes over {t}"));
        lines.AddRange((Record.AllowedVolumeChanges ?? []).Select(c => $"  allowed volume change: {c}"));
        lines.Add(Tags.Count == 0 ? "Tags that would move: none" : "Tags that would move (after every rollout succeeded):");
        lines.AddRange(Tags.Select(t => "  " + t));
        return lines;
    }

    /// <summary>Reads the lock, the history and the registry; changes nothing.</summary>
    public static async Task<ReleasePreview> BuildAsync(DeployLock deployLock, LockHolder us, ReleaseHistory history, ReleaseRecord draft,
        TagPromotion? promotion, PromotionRequest? tags, CancellationToken cancellationToken)
    {
        var state = await deployLock.InspectAsync(us, cancellationToken);
        var (_, record) = ReleaseLog.Append(await history.ReadAsync(cancellationToken), draft, history.Options.Keep);
        var moves = promotion is not null && tags is not null ? await promotion.PlanAsync(tags, cancellationToken) : [];
        return new ReleasePreview(state, record, moves);
    }

    public void Log(ILogger logger)
    {
        foreach (var line in Lines())
            logger.Information("[dry-run] {Line}", line);
    }
}
