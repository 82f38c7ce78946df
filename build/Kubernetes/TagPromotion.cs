using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary>
/// Moves tags in an image registry by re-putting a manifest (no pull, no push of layers). Repositories are full
/// references without tag (<c>host/path</c>), as <see cref="Tesslate.Build.Registry.ImageReference.Repository"/> gives them.
/// </summary>
public interface IImageTagger
{
    /// <summary>The digest a tag points to; null when the tag does not exist.</summary>
    Task<string?> ResolveDigestAsync(string repository, string tag, CancellationToken cancellationToken);

    /// <summary>Points <paramref name="tag"/> at the manifest <paramref name="digest"/>.</summary>
    Task TagAsync(string repository, string digest, string tag, CancellationToken cancellationToken);
}

/// <summary>One tag to move: where it points now (null: does not exist yet) and where it will point.</summary>
public sealed record TagMove(string Repository, string Tag, string Digest, string? PreviousDigest)
{
    public bool IsChange => PreviousDigest != Digest;

    public override string ToString() =>
        $"{Repository}:{Tag} → {ShortDigest(Digest)}" + (IsChange ? PreviousDigest is null ? " (new tag)" : $" (was {ShortDigest(PreviousDigest)})" : " (unchanged)");

    private static string ShortDigest(string digest) => digest.Length > 19 ? digest[..19] : digest;
}

/// <summary>
/// What to promote: the images a run deployed (repository → digest), the environment tag to move to them, and the
/// repositories whose <c>latest</c> tag moves too.
/// </summary>
public sealed record PromotionRequest(IReadOnlyDictionary<string, string> Images, string EnvironmentTag, IReadOnlySet<string>? AlsoLatest = null)
{
    public IReadOnlyList<(string Repository, string Tag, string Digest)> Tags() =>
        [.. Images.OrderBy(i => i.Key, StringComparer.Ordinal).SelectMany(i =>
            (AlsoLatest?.Contains(i.Key) == true && EnvironmentTag != "latest" ? new[] { EnvironmentTag, "latest" } : [EnvironmentTag])
                .Select(tag => (i.Key, tag, i.Value)))];
}

public sealed record PromotionResult(IReadOnlyList<TagMove> Moves, bool DryRun, string? SkippedBecause = null)
{
    public IReadOnlyList<TagMove> Moved => DryRun || SkippedBecause is not null ? [] : [.. Moves.Where(m => m.IsChange)];

    /// <summary>One line for the summary and the run report: which tags moved to which digests.</summary>
    public string Summary =>
        SkippedBecause is not null ? $"no tag moved: {SkippedBecause}"
        : Moves.Count == 0 ? "no tag to move"
        : DryRun ? $"would move: {string.Join("; ", Moves.Select(m => m.ToString()))}"
        : Moved.Count == 0 ? $"tags unchanged: {string.Join("; ", Moves.Select(m => m.ToString()))}"
        : $"tags moved: {string.Join("; ", Moved.Select(m => m.ToString()))}" + (Moves.Count > Moved.Count ? $" ({Moves.Count - Moved.Count} already there)" : "");

    // Records print their members, which says nothing useful about a list.
    public override string ToString() => Summary;
}

/// <summary>
/// Moves environment tags to what now runs in the environment, so the tag always names what runs there. Called only
/// when every rollout of the run succeeded: a failed run moves nothing.
/// </summary>
public sealed class TagPromotion(IImageTagger tagger, ILogger logger)
{
    /// <summary>The moves, with where each tag points now (read only; the dry run prints these).</summary>
    public async Task<IReadOnlyList<TagMove>> PlanAsync(PromotionRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.EnvironmentTag))
            throw new UsageException("No environment tag to promote to.", "Pass the environment's tag (e.g. beta).");
        var moves = new List<TagMove>();
        foreach (var (repository, tag, digest) in request.Tags())
            moves.Add(new TagMove(repository, tag, digest, await tagger.ResolveDigestAsync(repository, tag, cancellationToken)));
        return moves;
    }

    /// <summary>Moves the tags when <paramref name="rollouts"/> all succeeded; otherwise moves nothing and says why.</summary>
    public async Task<PromotionResult> PromoteAsync(PromotionRequest request, RolloutWaitReport rollouts, bool dryRun, CancellationToken cancellationToken)
    {
        if (!rollouts.AllSucceeded)
        {
            var reason = $"{rollouts.NotSucceeded.Count} rollout(s) did not complete ({string.Join(", ", rollouts.NotSucceeded.Select(r => r.Workload.ToString()))})";
            logger.Warning("No environment tag moved: {Reason}; {Tag} still names what ran before", reason, request.EnvironmentTag);
            return new PromotionResult([], dryRun, reason);
        }
        return await MoveAsync(request, dryRun, cancellationToken);
    }

    /// <summary>Moves the tags unconditionally (the caller has judged the rollouts itself, e.g. a rollback that completed).</summary>
    public async Task<PromotionResult> MoveAsync(PromotionRequest request, bool dryRun, CancellationToken cancellationToken)
    {
        var moves = await PlanAsync(request, cancellationToken);
        foreach (var move in moves)
        {
            if (dryRun)
            {
                logger.Information("[dry-run] would move {Move}", move.ToString());
                continue;
            }
            if (!move.IsChange)
            {
                logger.Debug("Tag {Move}", move.ToString());
                continue;
            }
            await tagger.TagAsync(move.Repository, move.Digest, move.Tag, cancellationToken);
            logger.Information("Tag moved: {Move}", move.ToString());
        }
        return new PromotionResult(moves, dryRun);
    }
}
