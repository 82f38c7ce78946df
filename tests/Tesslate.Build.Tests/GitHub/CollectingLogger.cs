using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Tesslate.Build.Tests.GitHub;

/// <summary>A Serilog logger whose events a test can read back.</summary>
public sealed class CollectingLogger : ILogEventSink
{
    private readonly List<LogEvent> _events = [];

    public CollectingLogger() => Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();

    public ILogger Logger { get; }

    public IReadOnlyList<LogEvent> Events
    {
        get
        {
            lock (_events)
                return [.. _events];
        }
    }

    public IEnumerable<string> Messages(LogEventLevel level) => Events.Where(e => e.Level == level).Select(e => e.RenderMessage());

    public void Emit(LogEvent logEvent)
    {
        lock (_events)
            _events.Add(logEvent);
    }
}
