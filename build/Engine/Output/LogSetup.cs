using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;
using Serilog.Sinks.SystemConsole.Themes;

namespace Tesslate.Build.Engine;

public enum Verbosity
{
    Quiet,
    Normal,
    Verbose,
}

/// <summary>
/// The run's logging: Serilog's console sink behind a sink that redacts every secret and prefixes the target,
/// a plain-text file under .nuke/temp, an in-memory list of warnings and errors for the summary, and on GitHub
/// Actions annotations plus per-target buffering so parallel targets print as tidy groups.
/// </summary>
public sealed class LogSetup : IDisposable
{
    private readonly RedactingSink _sink;

    /// <summary>A property marking a line that repeats a problem already reported: not annotated or counted again.</summary>
    public const string Repeats = "Repeats";

    private LogSetup(Logger logger, RedactingSink sink, string? logFile)
    {
        Logger = logger;
        _sink = sink;
        LogFile = logFile;
    }

    public Logger Logger { get; }

    public string? LogFile { get; }

    public IReadOnlyList<(LogEventLevel Level, string? Target, string Message)> Problems => _sink.Problems;

    /// <param name="github">On GitHub Actions each target's output is buffered and printed as one group when it ends.</param>
    public static LogSetup Create(Verbosity verbosity, GitHubActionsHost? github, string? logFile, TextWriter? output = null)
    {
        var level = verbosity switch { Verbosity.Quiet => LogEventLevel.Warning, Verbosity.Verbose => LogEventLevel.Verbose, _ => LogEventLevel.Information };
        var colors = github is null && !Console.IsOutputRedirected && System.Environment.GetEnvironmentVariable("NO_COLOR") is null;
        const string template = "{Timestamp:HH:mm:ss} {Level:u3} {TargetPrefix}{Message:l}{NewLine}";
        var configuration = new LoggerConfiguration().MinimumLevel.Verbose();
        var console = (output is null
            ? configuration.WriteTo.Console(outputTemplate: template, theme: colors ? AnsiConsoleTheme.Code : ConsoleTheme.None, standardErrorFromLevel: null)
            : configuration.WriteTo.Sink(new TextWriterSink(output, new Serilog.Formatting.Display.MessageTemplateTextFormatter(template)))).CreateLogger();
        var sink = new RedactingSink(console, github, logFile);
        var logger = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .Enrich.FromLogContext()
            .WriteTo.Sink(sink)
            .CreateLogger();
        return new LogSetup(logger, sink, logFile);
    }

    public void FlushTarget(PlannedTarget target) => _sink.FlushTarget(target);

    /// <summary>Text for the log file only (e.g. a stack trace the console shows only when verbose).</summary>
    public void WriteToFile(string text) => _sink.WriteToFile(text);

    /// <summary>While a live display owns the terminal, console lines wait (the log file still gets them at once).</summary>
    public IDisposable HoldConsole() => _sink.Hold();

    public void Dispose()
    {
        Logger.Dispose();
        _sink.Dispose();
    }

    /// <summary>For in-process runs (tests): the same lines the console would show, into a writer.</summary>
    private sealed class TextWriterSink(TextWriter output, Serilog.Formatting.ITextFormatter formatter) : ILogEventSink
    {
        private readonly Lock _gate = new();

        public void Emit(LogEvent logEvent)
        {
            lock (_gate)
                formatter.Format(logEvent, output);
        }
    }

    private sealed class RedactingSink(Logger console, GitHubActionsHost? github, string? logFile) : ILogEventSink, IDisposable
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, List<LogEvent>> _buffers = [];
        private readonly List<LogEvent> _held = [];
        private int _holds;
        private readonly StreamWriter? _file = OpenFile(logFile);

        public List<(LogEventLevel, string?, string)> Problems { get; } = [];

        public void Emit(LogEvent logEvent)
        {
            var target = logEvent.Properties.TryGetValue("Target", out var value) && value is ScalarValue { Value: string name } ? name : null;
            var text = Secrets.Redact(Render(logEvent));
            var redacted = new LogEvent(logEvent.Timestamp, logEvent.Level, null,
                new MessageTemplate([new TextToken(text)]),
                [new LogEventProperty("TargetPrefix", new ScalarValue(target is null ? "" : $"[{target}] "))]);
            lock (_gate)
            {
                _file?.WriteLine($"{logEvent.Timestamp:HH:mm:ss.fff} {Short(logEvent.Level)} {(target is null ? "" : $"[{target}] ")}{text}");
                if (logEvent.Level >= LogEventLevel.Warning && !logEvent.Properties.ContainsKey(Repeats))
                {
                    Problems.Add((logEvent.Level, target, text));
                    github?.Annotate(logEvent.Level >= LogEventLevel.Error ? "error" : "warning", target, text);
                }
                if (github is not null && target is not null)
                {
                    if (!_buffers.TryGetValue(target, out var list))
                        _buffers[target] = list = [];
                    list.Add(redacted);
                    return;
                }
                if (_holds > 0)
                {
                    _held.Add(redacted);
                    return;
                }
            }
            console.Write(redacted);
        }

        public IDisposable Hold()
        {
            lock (_gate)
                _holds++;
            return new Release(this);
        }

        private void Unhold()
        {
            List<LogEvent> waiting;
            lock (_gate)
            {
                if (--_holds > 0)
                    return;
                waiting = [.. _held];
                _held.Clear();
            }
            foreach (var logEvent in waiting)
                console.Write(logEvent);
        }

        private sealed class Release(RedactingSink sink) : IDisposable
        {
            private int _released;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _released, 1) == 0)
                    sink.Unhold();
            }
        }

        public void FlushTarget(PlannedTarget target)
        {
            if (github is null)
                return;
            List<LogEvent>? events;
            lock (_gate)
            {
                _buffers.Remove(target.Name, out events);
            }
            github.Group($"{target.Name} — {target.Status} ({Durations.Format(target.Duration)})", () =>
            {
                foreach (var logEvent in events ?? [])
                    console.Write(logEvent);
            });
        }

        public void WriteToFile(string text)
        {
            lock (_gate)
                _file?.WriteLine($"{DateTimeOffset.Now:HH:mm:ss.fff} ERR {text}");
        }

        public void Dispose()
        {
            console.Dispose();
            _file?.Dispose();
        }

        // Strings render bare (Serilog would quote them): log lines read like prose, not like JSON.
        private static string Render(LogEvent logEvent)
        {
            var builder = new System.Text.StringBuilder();
            foreach (var token in logEvent.MessageTemplate.Tokens)
            {
                if (token is PropertyToken property && logEvent.Properties.TryGetValue(property.PropertyName, out var value))
                    builder.Append(value is ScalarValue { Value: var scalar } ? Convert.ToString(scalar, System.Globalization.CultureInfo.InvariantCulture) : value.ToString());
                else
                    builder.Append(token is TextToken text ? text.Text : token.ToString());
            }
            return builder.ToString();
        }

        private static string Short(LogEventLevel level) => level switch
        {
            LogEventLevel.Verbose => "VRB",
            LogEventLevel.Debug => "DBG",
            LogEventLevel.Information => "INF",
            LogEventLevel.Warning => "WRN",
            LogEventLevel.Error => "ERR",
            _ => "FTL",
        };

        private static StreamWriter? OpenFile(string? path)
        {
            if (path is null)
                return null;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return new StreamWriter(path, append: false) { AutoFlush = true };
        }
    }
}
