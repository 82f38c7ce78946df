using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Tesslate.Build.Images;

/// <summary>Where an image stands in a build run.</summary>
public enum ImagePhase
{
    Queued,
    Probing,
    Building,
    Pushing,
    Reused,
    Built,
    Planned,
    Failed,
}

/// <summary>One progress event: <paramref name="Detail"/> is a raw output line while building or pushing, else a short note.</summary>
public sealed record ImageProgress(string Image, ImagePhase Phase, string? Detail, TimeSpan Elapsed);

/// <summary>What the live view shows for one image.</summary>
public sealed record BuildProgressRow(string Image, ImagePhase Phase, string Detail, TimeSpan Elapsed)
{
    public bool IsFinished => Phase is ImagePhase.Reused or ImagePhase.Built or ImagePhase.Planned or ImagePhase.Failed;

    public string State => Phase.ToString().ToLowerInvariant();
}

/// <summary>
/// Receives an image build's progress besides the logs. A display that <see cref="OwnsConsole"/> (the live view) takes the
/// console between <see cref="Begin"/> and <see cref="End"/>: the builder then writes image lines to the log files only.
/// </summary>
public interface IImageBuildProgress : IProgress<ImageProgress>
{
    bool OwnsConsole { get; }

    void Begin(IReadOnlyList<string> images);

    void End();
}

/// <summary>
/// The state behind the live view: image → row, driven by plain <see cref="ImageProgress"/> events. Running rows' elapsed
/// time keeps counting from the last event by the given clock; building rows show "step n/N" (classic or BuildKit) with
/// the step's instruction, or the last output line, truncated.
/// </summary>
public sealed partial class BuildProgressBoard(TimeProvider? clock = null, int detailWidth = 70)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private readonly List<string> _order = [];
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public void Add(string image)
    {
        lock (_gate)
        {
            if (_entries.ContainsKey(image))
                return;
            _order.Add(image);
            _entries[image] = new Entry { Phase = ImagePhase.Queued, Since = _clock.GetTimestamp() };
        }
    }

    public void Apply(ImageProgress progress)
    {
        Add(progress.Image);
        lock (_gate)
        {
            var entry = _entries[progress.Image];
            entry.Elapsed = progress.Elapsed;
            entry.Since = _clock.GetTimestamp();
            if (entry.Phase != progress.Phase)
            {
                entry.Step = null;
                entry.LastLine = null;
            }
            entry.Phase = progress.Phase;
            if (progress.Phase is ImagePhase.Building or ImagePhase.Pushing && progress.Detail is { } line)
            {
                var text = line.Trim();
                if (Step(text) is { } step)
                    entry.Step = step;
                else if (text.Length > 0)
                    entry.LastLine = text;
            }
            else
                entry.LastLine = progress.Detail;
        }
    }

    public IReadOnlyList<BuildProgressRow> Rows()
    {
        var now = _clock.GetTimestamp();
        lock (_gate)
        {
            return [.. _order.Select(image =>
            {
                var entry = _entries[image];
                var row = new BuildProgressRow(image, entry.Phase, "", entry.Elapsed);
                var running = !row.IsFinished && entry.Phase != ImagePhase.Queued;
                return row with
                {
                    Detail = Truncate(entry.Step ?? entry.LastLine ?? "", detailWidth),
                    Elapsed = running ? entry.Elapsed + _clock.GetElapsedTime(entry.Since, now) : entry.Elapsed,
                };
            })];
        }
    }

    /// <summary>"step 3/7: RUN pip install ..." from a classic builder's "Step 3/7 : RUN ..." or BuildKit's "#8 [3/7] RUN ...".</summary>
    internal static string? Step(string line)
    {
        var match = StepLine().Match(line);
        if (!match.Success)
            return null;
        var instruction = match.Groups["instruction"].Value.Trim();
        return $"step {match.Groups["n"].Value}/{match.Groups["total"].Value}{(instruction.Length > 0 ? ": " + instruction : "")}";
    }

    internal static string Truncate(string text, int width) =>
        width < 2 || text.Length <= width ? text : text[..(width - 1)] + "…";

    [GeneratedRegex(@"^(?:Step (?<n>\d+)/(?<total>\d+) :|#\d+ \[(?:[^\]\s]+ )?(?<n>\d+)/(?<total>\d+)\])(?<instruction>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex StepLine();

    private sealed class Entry
    {
        public ImagePhase Phase { get; set; }

        public TimeSpan Elapsed { get; set; }

        public long Since { get; set; }

        public string? Step { get; set; }

        public string? LastLine { get; set; }
    }
}
