namespace Tesslate.Build.Engine;

/// <summary>
/// Text for --help and --plan: lines, words wrapped to the console's width, two-column tables, and bold or coloured
/// words only on a terminal that takes ANSI codes (never with NO_COLOR, redirected output or a test's writer).
/// </summary>
public sealed class PlainText
{
    private const int RedirectedWidth = 160;
    private readonly TextWriter _writer;
    private readonly bool _colors;
    private readonly int _width;

    public PlainText(TextWriter writer, bool colors, int width)
    {
        _writer = writer;
        _colors = colors;
        _width = Math.Max(40, width);
    }

    /// <summary>The console (or <paramref name="output"/>, as redirected output: no colours, 160 columns).</summary>
    public static PlainText For(TextWriter? output)
    {
        if (output is not null || Console.IsOutputRedirected)
            return new PlainText(output ?? Console.Out, colors: false, RedirectedWidth);
        var term = System.Environment.GetEnvironmentVariable("TERM");
        var colors = System.Environment.GetEnvironmentVariable("NO_COLOR") is null && term is { Length: > 0 } && term != "dumb";
        int width;
        try
        {
            width = Console.WindowWidth;
        }
        catch (IOException)
        {
            width = 80;
        }
        return new PlainText(Console.Out, colors, width > 0 ? width : 80);
    }

    public enum Style
    {
        Bold,
        Green,
        Grey,
        Yellow,
        Red,
    }

    /// <summary>One table row: the left cell (with an optional green note after it) and a description with an optional grey line under it.</summary>
    public sealed record Row(string Left, string? LeftNote, string Description, string? Detail);

    public string Bold(string text) => Styled(text, Style.Bold);

    public string Green(string text) => Styled(text, Style.Green);

    public string Grey(string text) => Styled(text, Style.Grey);

    public string Yellow(string text) => Styled(text, Style.Yellow);

    public string Red(string text) => Styled(text, Style.Red);

    public string Styled(string text, Style style) => !_colors || text.Length == 0 ? text : style switch
    {
        Style.Bold => $"\e[1m{text}\e[0m",
        Style.Green => $"\e[32m{text}\e[0m",
        Style.Grey => $"\e[90m{text}\e[0m",
        Style.Yellow => $"\e[33m{text}\e[0m",
        _ => $"\e[31m{text}\e[0m",
    };

    public void Line(string text = "") => _writer.WriteLine(text);

    /// <summary>A paragraph wrapped at word boundaries to the width.</summary>
    public void Wrapped(string text, Style style)
    {
        foreach (var line in Wrap(text, _width - 1))
            Line(Styled(line, style));
    }

    /// <summary>Rows in two columns: the left one as wide as its widest cell, the right one wrapped to what is left.</summary>
    public void Table(IReadOnlyList<Row> rows)
    {
        var left = 0;
        foreach (var row in rows)
            left = Math.Max(left, row.Left.Length + (row.LeftNote is null ? 0 : row.LeftNote.Length + 1));
        var indent = new string(' ', left + 1);
        var right = Math.Max(20, _width - left - 4);
        foreach (var row in rows)
        {
            var first = true;
            var shownLeft = row.LeftNote is null ? row.Left : $"{row.Left} {Green(row.LeftNote)}";
            var pad = new string(' ', left + 1 - row.Left.Length - (row.LeftNote is null ? 0 : row.LeftNote.Length + 1));
            foreach (var (paragraph, style) in new[] { (row.Description, (Style?)null), (row.Detail, Style.Grey) })
            {
                if (paragraph is null)
                    continue;
                foreach (var line in Wrap(paragraph, right))
                {
                    var shown = style is { } s ? Styled(line, s) : line;
                    Line(first ? $"{shownLeft}{pad}{shown}" : $"{indent}{shown}");
                    first = false;
                }
            }
            if (first)
                Line(shownLeft);
        }
    }

    private static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = new System.Text.StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            var rest = word;
            while (rest.Length > width)
            {
                if (line.Length > 0)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }
                lines.Add(rest[..width]);
                rest = rest[width..];
            }
            if (line.Length > 0)
                line.Append(' ');
            line.Append(rest);
        }
        if (line.Length > 0 || lines.Count == 0)
            lines.Add(line.ToString());
        return lines;
    }
}
