using System.Text;

namespace Tesslate.Build.Engine.Workflows;

/// <summary>A unified diff (<c>diff -u</c> shape, 3 lines of context) between two texts, line endings ignored.</summary>
public static class UnifiedDiff
{
    private const int Context = 3;

    public static string Between(string oldText, string newText, string oldLabel, string newLabel)
    {
        var a = SplitLines(oldText);
        var b = SplitLines(newText);
        var edits = Edits(a, b);
        if (edits.All(e => e.Kind == ' '))
            return string.Empty;

        var output = new StringBuilder();
        output.Append("--- ").Append(oldLabel).Append('\n');
        output.Append("+++ ").Append(newLabel).Append('\n');

        var index = 0;
        while (index < edits.Count)
        {
            var firstChange = edits.FindIndex(index, e => e.Kind != ' ');
            if (firstChange < 0)
                break;
            var start = Math.Max(index, firstChange - Context);
            // Extend the hunk while the next change is within 2×context of the last one.
            var end = firstChange;
            for (var i = firstChange; i < edits.Count; i++)
            {
                if (edits[i].Kind != ' ')
                    end = i;
                else if (i - end > 2 * Context)
                    break;
            }
            var stop = Math.Min(edits.Count, end + Context + 1);
            var hunk = edits.GetRange(start, stop - start);
            var oldStart = hunk.FirstOrDefault(e => e.Kind != '+')?.OldLine ?? (start == 0 ? 0 : edits[start - 1].OldLine);
            var newStart = hunk.FirstOrDefault(e => e.Kind != '-')?.NewLine ?? (start == 0 ? 0 : edits[start - 1].NewLine);
            var oldCount = hunk.Count(e => e.Kind != '+');
            var newCount = hunk.Count(e => e.Kind != '-');
            output.Append($"@@ -{Range(oldStart, oldCount)} +{Range(newStart, newCount)} @@\n");
            foreach (var edit in hunk)
                output.Append(edit.Kind).Append(edit.Text).Append('\n');
            index = stop;
        }
        return output.ToString();
    }

    private static string Range(int start, int count) => count == 1 ? $"{start}" : $"{start},{count}";

    private static string[] SplitLines(string text)
    {
        var normalized = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (normalized.EndsWith('\n'))
            normalized = normalized[..^1];
        return normalized.Length == 0 ? [] : normalized.Split('\n');
    }

    private sealed record Edit(char Kind, string Text, int OldLine, int NewLine);

    // Longest common subsequence: workflow files are a few hundred lines, so the quadratic table is small.
    private static List<Edit> Edits(string[] a, string[] b)
    {
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
            for (var j = b.Length - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);

        var edits = new List<Edit>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                edits.Add(new Edit(' ', a[x], x + 1, y + 1));
                x++;
                y++;
            }
            // Deletions before insertions, as diff -u shows a changed line.
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                edits.Add(new Edit('-', a[x], x + 1, y));
                x++;
            }
            else
            {
                edits.Add(new Edit('+', b[y], x, y + 1));
                y++;
            }
        }
        return edits;
    }
}
