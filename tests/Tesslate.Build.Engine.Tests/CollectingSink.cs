using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Tesslate.Build.Engine.Tests;

/// <summary>Keeps every rendered log line, to assert on what a person would see.</summary>
public sealed class CollectingSink : ILogEventSink
{
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines { get { lock (_gate) return [.. _lines]; } }

    public void Emit(LogEvent logEvent)
    {
        lock (_gate)
            _lines.Add(logEvent.RenderMessage());
    }

    public ILogger CreateLogger() => new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();
}
