namespace Tesslate.Build.Engine.Processes;

public sealed record OutputLine(bool IsError, string Text);

/// <summary>What a finished process left: exit code, duration and (when asked) its output, already redacted.</summary>
public sealed record ProcessResult(int ExitCode, TimeSpan Duration, IReadOnlyList<OutputLine> Output, bool WasDryRun = false)
{
    public string StandardOutput => string.Join('\n', Output.Where(l => !l.IsError).Select(l => l.Text));

    public string StandardError => string.Join('\n', Output.Where(l => l.IsError).Select(l => l.Text));

    public IEnumerable<string> LastLines(int count) => Output.Select(l => l.Text).TakeLast(count);

    public static ProcessResult DryRun { get; } = new(0, TimeSpan.Zero, [], WasDryRun: true);
}

/// <summary>A process exited with a code the command did not allow.</summary>
public sealed class ProcessFailedException(ToolCommand command, ProcessResult result, string? fix = null)
    : BuildFailure(Describe(command, result), fix)
{
    public ToolCommand Command { get; } = command;

    public ProcessResult Result { get; } = result;

    private static string Describe(ToolCommand command, ProcessResult result)
    {
        var tail = result.LastLines(20).ToList();
        var output = tail.Count == 0 ? string.Empty : System.Environment.NewLine + string.Join(System.Environment.NewLine, tail.Select(l => "    " + l));
        return $"'{command.Display}' exited with code {result.ExitCode}{output}";
    }
}
