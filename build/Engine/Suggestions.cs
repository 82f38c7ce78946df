namespace Tesslate.Build.Engine;

/// <summary>"Did you mean …?" for mistyped target names, flags and values.</summary>
public static class Suggestions
{
    public static string DidYouMean(string input, IEnumerable<string> candidates)
    {
        var best = Closest(input, candidates);
        return best is null ? string.Empty : $" Did you mean '{best}'?";
    }

    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        var normalized = Normalize(input);
        return candidates
            .Select(c => (Candidate: c, Distance: Distance(normalized, Normalize(c))))
            .Where(c => c.Distance <= Math.Max(2, normalized.Length / 3))
            .OrderBy(c => c.Distance)
            .Select(c => c.Candidate)
            .FirstOrDefault();
    }

    private static string Normalize(string text) => text.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();

    // Optimal string alignment distance: Levenshtein plus adjacent transpositions ("Deplyo" → "Deploy" is 1).
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
