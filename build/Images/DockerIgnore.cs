using System.Text.RegularExpressions;

namespace Tesslate.Build.Images;

/// <summary>
/// A .dockerignore file with Docker's semantics (moby/patternmatcher): patterns are anchored at the context root,
/// <c>*</c> and <c>?</c> stop at <c>/</c>, <c>**</c> spans directories, a pattern matching a directory excludes
/// everything under it, and the last matching pattern wins, so <c>!</c> lines re-include.
/// </summary>
public sealed class DockerIgnore
{
    private readonly IReadOnlyList<IgnorePattern> _patterns;

    private DockerIgnore(IReadOnlyList<IgnorePattern> patterns) => _patterns = patterns;

    public static DockerIgnore Empty { get; } = new([]);

    public bool HasExceptions => _patterns.Any(p => p.Exclusion);

    public IReadOnlyList<string> Patterns => [.. _patterns.Select(p => (p.Exclusion ? "!" : "") + p.Text)];

    public static DockerIgnore Parse(string text)
    {
        var patterns = new List<IgnorePattern>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            // Docker trims only trailing whitespace before checking for comments and exclusions.
            if (line.StartsWith('#'))
                continue;
            line = line.Trim();
            if (line.Length == 0)
                continue;
            var exclusion = line.StartsWith('!');
            if (exclusion)
            {
                line = line[1..].Trim();
                if (line.Length == 0)
                    continue;
            }
            var cleaned = Clean(line);
            if (cleaned.Length == 0)
                continue;
            patterns.Add(new IgnorePattern(cleaned, exclusion, PathPattern.Compile(cleaned, anyDirectories: true)));
        }
        return new DockerIgnore(patterns);
    }

    public static DockerIgnore Load(string? path) => path is not null && File.Exists(path) ? Parse(File.ReadAllText(path)) : Empty;

    /// <summary>Whether a context-relative path (with <c>/</c> separators) is left out of the build context.</summary>
    public bool IsExcluded(string relativePath)
    {
        var path = relativePath.Trim('/');
        var excluded = false;
        foreach (var pattern in _patterns)
        {
            if (excluded == !pattern.Exclusion)
                continue; // this pattern cannot change the verdict
            if (MatchesOrParentMatches(pattern, path))
                excluded = !pattern.Exclusion;
        }
        return excluded;
    }

    private static bool MatchesOrParentMatches(IgnorePattern pattern, string path)
    {
        if (pattern.Regex.IsMatch(path))
            return true;
        // A pattern naming a directory excludes everything below it.
        var index = path.LastIndexOf('/');
        while (index > 0)
        {
            path = path[..index];
            if (pattern.Regex.IsMatch(path))
                return true;
            index = path.LastIndexOf('/');
        }
        return false;
    }

    /// <summary>Go's filepath.Clean for slash paths, without a leading <c>/</c> (patterns are anchored at the root anyway).</summary>
    internal static string Clean(string pattern)
    {
        var parts = new List<string>();
        foreach (var part in pattern.Replace('\\', '/').Split('/'))
        {
            if (part is "" or ".")
                continue;
            if (part == ".." && parts.Count > 0 && parts[^1] != "..")
                parts.RemoveAt(parts.Count - 1);
            else if (part != ".." || parts.Count > 0)
                parts.Add(part);
        }
        return string.Join('/', parts);
    }

    private sealed record IgnorePattern(string Text, bool Exclusion, Regex Regex);
}
