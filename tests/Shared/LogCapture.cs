using System.Globalization;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Tesslate.Build.Testing;

/// <summary>
/// The tests' one log sink: a Serilog logger at Verbose that keeps every event, to assert what reached the output.
/// A line is the rendered message, followed by the exception when the event carries one.
/// </summary>
public sealed class LogCapture : ILogEventSink
{
    private readonly Lock _gate = new();
    private readonly List<LogEvent> _events = [];

    public LogCapture() => Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();

    public ILogger Logger { get; }

    public IReadOnlyList<LogEvent> Events
    {
        get
        {
            lock (_gate)
                return [.. _events];
        }
    }

    public IReadOnlyList<string> Lines => [.. Events.Select(Line)];

    public string Text => string.Join('\n', Lines);

    /// <summary>The lines logged at <paramref name="level"/>.</summary>
    public IEnumerable<string> Messages(LogEventLevel level) => Events.Where(e => e.Level == level).Select(Line);

    public void Emit(LogEvent logEvent)
    {
        lock (_gate)
            _events.Add(logEvent);
    }

    private static string Line(LogEvent logEvent) =>
        logEvent.RenderMessage(CultureInfo.InvariantCulture) + (logEvent.Exception is null ? "" : " " + logEvent.Exception);
}
