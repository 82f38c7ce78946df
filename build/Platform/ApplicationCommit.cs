using System.Text.RegularExpressions;
using Tesslate.Build.Engine;
using Tesslate.Build.Images;

namespace Tesslate.Build.Platform;

/// <summary>The application commit a run builds and deploys (a full SHA), and what chose it.</summary>
public sealed record ApplicationCommit(string Sha, string ChosenBy)
{
    public string Short => Sha[..Math.Min(12, Sha.Length)];
}

/// <summary>What a run knows about its application source when it decides the application commit.</summary>
public sealed record ApplicationSourceFacts
{
    /// <summary><c>--application-ref</c> as given.</summary>
    public string? RequestedRef { get; init; }

    /// <summary>The source root in effect (given, or local's fallback), when there is one.</summary>
    public string? SourceRoot { get; init; }

    /// <summary>The source root's HEAD; null when it is not a git checkout.</summary>
    public string? SourceHead { get; init; }

    /// <summary>The commit <see cref="RequestedRef"/> names in the source root; null when it names none there.</summary>
    public string? ResolvedInSource { get; init; }

    /// <summary>Whether this run builds images from the source root (BuildImages is scheduled).</summary>
    public bool BuildsFromSource { get; init; }

    /// <summary>The revision of the images in <c>--build-report</c>, and that report's path.</summary>
    public string? ReportRevision { get; init; }

    public string? ReportPath { get; init; }
}

/// <summary>
/// Which application commit a run deploys, decided once from plain facts: <c>--application-ref</c> resolved in the
/// source root (which must have exactly that commit checked out), or without a source root a full SHA (the CI deploy job,
/// which has no application tree), checked against the build report's revision; else the build report's revision; else
/// the source root's HEAD when this run builds from it. Bad input is a usage error naming the ref and the fix.
/// </summary>
public static partial class ApplicationCommits
{
    [GeneratedRegex("^(?:[0-9a-f]{40}|[0-9a-f]{64})$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex FullShaPattern();

    /// <summary>A full SHA-1 or SHA-256 commit id (abbreviations are refs a server cannot fetch).</summary>
    public static bool IsFullSha(string text) => FullShaPattern().IsMatch(text);

    /// <summary>Pure: the run's application commit, or null when nothing names one (a dry run without a source root).</summary>
    public static ApplicationCommit? Decide(ApplicationSourceFacts facts)
    {
        if (facts.RequestedRef is { } requested)
        {
            var commit = FromRequest(requested, facts);
            if (facts.ReportRevision is { } revision && !SameCommit(revision, commit.Sha))
            {
                throw new UsageException(
                    $"--build-report {facts.ReportPath} holds images built from application commit {Short(revision)}, not {commit.Short} (--application-ref {requested}).",
                    $"Deploy the build report of a build of {commit.Short}, or pass --application-ref {revision}.");
            }
            return commit;
        }
        if (facts.ReportRevision is { } reported)
            return new ApplicationCommit(reported.ToLowerInvariant(), $"the build report {facts.ReportPath}");
        if (facts.BuildsFromSource && facts.SourceHead is { } head)
            return new ApplicationCommit(head, $"the source root's HEAD ({facts.SourceRoot})");
        return null;
    }

    private static ApplicationCommit FromRequest(string requested, ApplicationSourceFacts facts)
    {
        if (facts.SourceRoot is not { } root)
        {
            if (!IsFullSha(requested))
            {
                throw new UsageException(
                    $"--application-ref '{requested}' is not a full commit SHA, and there is no source root to resolve a branch or tag in.",
                    "Pass the full 40-character commit SHA, or a source root that has the commit checked out. " + SourceRoots.Fix);
            }
            return new ApplicationCommit(requested.ToLowerInvariant(), $"--application-ref {requested}");
        }
        if (facts.SourceHead is not { } head)
        {
            throw new UsageException($"--application-ref '{requested}' is resolved in the source root, and {root} is not a git checkout.",
                "Clone the application repository with git and point the source root at the clone, or drop --application-ref.");
        }
        if (facts.ResolvedInSource is not { } resolved)
        {
            throw new UsageException($"--application-ref '{requested}' names no commit in the source root {root}.",
                $"Fetch it first (git -C {root} fetch origin {requested}), or pass a branch, tag or full SHA that exists there.");
        }
        if (!SameCommit(resolved, head))
        {
            throw new UsageException(
                $"The source root {root} has {Short(head)} checked out, but --application-ref '{requested}' is {Short(resolved)}: the images would not be built from the commit asked for.",
                $"Check it out first (git -C {root} checkout {requested}), or drop --application-ref to build and deploy what is checked out.");
        }
        return new ApplicationCommit(resolved, $"--application-ref {requested}");
    }

    private static bool SameCommit(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static string Short(string sha) => sha[..Math.Min(12, sha.Length)];
}
