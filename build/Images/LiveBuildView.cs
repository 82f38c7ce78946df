using Spectre.Console;
using Spectre.Console.Rendering;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Images;

/// <summary>
/// The interactive terminal's view of a build run: one row per image (state, elapsed, step or last output line),
/// redrawn a few times a second with Spectre.Console's <see cref="LiveDisplay"/> until <see cref="End"/>.
/// </summary>
public sealed class LiveBuildView(IAnsiConsole console, TimeProvider? clock = null) : IImageBuildProgress
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(250);
    private readonly BuildProgressBoard _board = new(clock, detailWidth: Math.Max(20, console.Profile.Width - 40));
    private readonly CancellationTokenSource _stop = new();
    private Task? _live;

    public bool OwnsConsole => true;

    public BuildProgressBoard Board => _board;

    /// <summary>
    /// The live view only where someone watches: an interactive run (no CI, input not redirected), output not redirected,
    /// colours allowed (NO_COLOR unset) and not --verbosity verbose (whose full output would be hidden).
    /// </summary>
    public static bool IsWanted(bool interactive, Verbosity verbosity, IReadOnlyDictionary<string, string> environment) =>
        interactive && verbosity != Verbosity.Verbose && !Console.IsOutputRedirected
        && !environment.ContainsKey("NO_COLOR")
        && environment.GetValueOrDefault("CI") is not ("true" or "1")
        && environment.GetValueOrDefault("GITHUB_ACTIONS") is not "true"
        && environment.GetValueOrDefault("TERM") is not "dumb";

    public void Report(ImageProgress value) => _board.Apply(value);

    public void Begin(IReadOnlyList<string> images)
    {
        foreach (var image in images)
            _board.Add(image);
        _live = console.Live(Render()).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async context =>
        {
            while (!_stop.IsCancellationRequested)
            {
                context.UpdateTarget(Render());
                context.Refresh();
                try
                {
                    await Task.Delay(Refresh, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            context.UpdateTarget(Render());
            context.Refresh();
        });
    }

    public void End()
    {
        _stop.Cancel();
        _live?.GetAwaiter().GetResult();
        _stop.Dispose();
    }

    /// <summary>The table for the board's current rows.</summary>
    public IRenderable Render()
    {
        var table = new Table().Border(TableBorder.None).HideHeaders().AddColumn("image").AddColumn("state").AddColumn("elapsed", c => c.RightAligned()).AddColumn("detail");
        foreach (var row in _board.Rows())
        {
            table.AddRow(new Markup(Markup.Escape(row.Image), Style.Plain), new Markup(Markup.Escape(row.State), StyleOf(row.Phase)),
                new Text(Durations.Format(row.Elapsed)), new Text(row.Detail, new Style(Color.Grey)));
        }
        return table;
    }

    private static Style StyleOf(ImagePhase phase) => phase switch
    {
        ImagePhase.Failed => new Style(Color.Red),
        ImagePhase.Built or ImagePhase.Reused or ImagePhase.Planned => new Style(Color.Green),
        ImagePhase.Queued => new Style(Color.Grey),
        _ => new Style(Color.Yellow),
    };
}
