using System.Collections.Concurrent;
using System.Globalization;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>A Serilog sink that keeps rendered lines, so tests can assert on console output.</summary>
public sealed class CollectingSink : ILogEventSink
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public string Text => string.Join('\n', _lines);

    public void Emit(LogEvent logEvent) => _lines.Enqueue(logEvent.RenderMessage(CultureInfo.InvariantCulture));

    public ILogger CreateLogger() => new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();
}
