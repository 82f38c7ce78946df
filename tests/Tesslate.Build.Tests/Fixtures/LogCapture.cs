using System.Collections.Concurrent;
using System.Globalization;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>A Serilog logger at Verbose that keeps every rendered line, to assert what reached the output.</summary>
public sealed class LogCapture : ILogEventSink
{
    private readonly ConcurrentQueue<string> _lines = new();

    public LogCapture() => Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();

    public ILogger Logger { get; }

    public IReadOnlyList<string> Lines => [.. _lines];

    public string Text => string.Join('\n', _lines);

    public void Emit(LogEvent logEvent) =>
        _lines.Enqueue(logEvent.RenderMessage(CultureInfo.InvariantCulture) + (logEvent.Exception is null ? "" : " " + logEvent.Exception));
}
