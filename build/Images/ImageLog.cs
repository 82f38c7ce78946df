using System.Globalization;
using System.Text.RegularExpressions;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Tesslate.Build.Images;

/// <summary>
/// One image's log: every line goes to <c>&lt;logs&gt;/&lt;image&gt;.log</c> (kept after the run); build steps, pushes and
/// errors also go to the console, prefixed with the image name, so parallel builds stay readable.
/// </summary>
public sealed partial class ImageLog : IDisposable
{
    private readonly StreamWriter _file;
    private readonly ILogger _console;
    private readonly string _image;
    private readonly Lock _gate = new();
    private readonly Action<string>? _outputLine;

    /// <param name="outputLine">Sees every process output line (the live view's step and last line).</param>
    public ImageLog(string path, ILogger console, string image, Action<string>? outputLine = null)
    {
        _outputLine = outputLine;
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _file = new StreamWriter(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        _console = console;
        _image = image;
        Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(new Forwarder(this)).CreateLogger();
    }

    public string Path { get; }

    /// <summary>The logger to hand to this image's process runner and steps.</summary>
    public ILogger Logger { get; }

    private void Emit(LogEvent logEvent)
    {
        // Process output arrives as "[prefix] line"; keep the raw line in the file.
        var text = logEvent.Properties.TryGetValue("Line", out var line) && line is ScalarValue { Value: string raw }
            ? raw
            : logEvent.RenderMessage(CultureInfo.InvariantCulture);
        lock (_gate)
            _file.WriteLine($"{logEvent.Timestamp:HH:mm:ss.fff} {text}");
        if (line is not null)
            _outputLine?.Invoke(text);
        if (logEvent.Level >= LogEventLevel.Warning)
            _console.Write(logEvent.Level, "[{Image:l}] {Text:l}", _image, text);
        else if (logEvent.Properties.ContainsKey("Line") ? IsProgress(text) : logEvent.Level >= LogEventLevel.Information)
            _console.Information("[{Image:l}] {Text:l}", _image, text);
    }

    /// <summary>Builder steps (classic and BuildKit), pushed digests and errors: enough to follow a build without its full output.</summary>
    internal static bool IsProgress(string line) => Progress().IsMatch(line);

    public IReadOnlyList<string> LastLines(int count)
    {
        lock (_gate)
            _file.Flush();
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var queue = new Queue<string>();
        while (reader.ReadLine() is { } text)
        {
            queue.Enqueue(text);
            if (queue.Count > count)
                queue.Dequeue();
        }
        return [.. queue];
    }

    public void Dispose()
    {
        (Logger as IDisposable)?.Dispose();
        lock (_gate)
            _file.Dispose();
    }

    // The logger disposes its sinks; a separate forwarder keeps that from re-entering Dispose.
    private sealed class Forwarder(ImageLog log) : ILogEventSink
    {
        public void Emit(LogEvent logEvent) => log.Emit(logEvent);
    }

    [GeneratedRegex(@"^(Step \d+/\d+ :|#\d+ \[|#\d+ (DONE|ERROR)|\S+: digest: sha256:|Successfully (built|tagged)|ERROR|error|Error|failed)", RegexOptions.CultureInvariant)]
    private static partial Regex Progress();
}
