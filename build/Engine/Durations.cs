using System.Globalization;
using System.Text.RegularExpressions;

namespace Tesslate.Build.Engine;

/// <summary>Durations on the command line: <c>90s</c>, <c>10m</c>, <c>1h</c>, <c>1h30m</c> or plain seconds.</summary>
public static partial class Durations
{
    /// <summary>The longest duration a parameter accepts: nothing in a release waits longer than a day.</summary>
    public static readonly TimeSpan Maximum = TimeSpan.FromDays(1);

    /// <summary>Parses a duration; one too long for <see cref="TimeSpan"/> comes back as <see cref="TimeSpan.MaxValue"/> (over <see cref="Maximum"/>).</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 && double.IsFinite(seconds))
        {
            value = FromSeconds(seconds);
            return true;
        }
        var match = DurationPattern().Match(text);
        if (!match.Success || match.Length == 0)
            return false;
        var total = 0.0;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = part.Value[^1];
            var amount = double.Parse(part.Value[..^1], CultureInfo.InvariantCulture);
            total += amount * unit switch { 'h' => 3600, 'm' => 60, _ => 1 };
        }
        value = FromSeconds(total);
        return true;
    }

    private static TimeSpan FromSeconds(double seconds) =>
        seconds >= TimeSpan.MaxValue.TotalSeconds ? TimeSpan.MaxValue : TimeSpan.FromSeconds(seconds);

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
