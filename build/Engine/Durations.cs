using System.Globalization;
using System.Text.RegularExpressions;

namespace Tesslate.Build.Engine;

/// <summary>Durations on the command line: <c>90s</c>, <c>10m</c>, <c>1h</c>, <c>1h30m</c> or plain seconds.</summary>
public static partial class Durations
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }
        var match = DurationPattern().Match(text);
        if (!match.Success || match.Length == 0)
            return false;
        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = part.Value[^1];
            var amount = double.Parse(part.Value[..^1], CultureInfo.InvariantCulture);
            total += unit switch { 'h' => TimeSpan.FromHours(amount), 'm' => TimeSpan.FromMinutes(amount), _ => TimeSpan.FromSeconds(amount) };
        }
        value = total;
        return true;
    }

    public static string Format(TimeSpan duration) => duration switch
    {
        { TotalSeconds: < 1 } => $"{duration.TotalMilliseconds:0} ms",
        { TotalMinutes: < 1 } => $"{duration.TotalSeconds:0.0} s",
        { TotalHours: < 1, Seconds: 0 } => $"{(int)duration.TotalMinutes}m",
        { TotalHours: < 1 } => $"{(int)duration.TotalMinutes}m{duration.Seconds:00}s",
        { Minutes: 0 } => $"{(int)duration.TotalHours}h",
        _ => $"{(int)duration.TotalHours}h{duration.Minutes:00}m",
    };

    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?[hms])+$")]
    private static partial Regex DurationPattern();
}
