using System.Collections.Immutable;

namespace Tesslate.Build.Engine.Processes;

/// <summary>
/// An immutable description of one process start: executable, argument list (never a shell string), environment,
/// standard input (where secrets go) and how to judge and cancel it. Running it is <see cref="ProcessRunner"/>'s job,
/// which is also what makes --dry-run honest: the description is printed instead of run.
/// </summary>
public sealed record ToolCommand
{
    public ToolCommand(string executable, IEnumerable<string>? arguments = null)
    {
        Executable = executable;
        Arguments = [.. arguments ?? []];
    }

    public string Executable { get; init; }

    public ImmutableArray<string> Arguments { get; init; }

    public string? WorkingDirectory { get; init; }

    /// <summary>Variables to set (a null value removes the variable from the child's environment).</summary>
    public ImmutableDictionary<string, string?> Environment { get; init; } = ImmutableDictionary<string, string?>.Empty;

    /// <summary>Written to the child's stdin and closed; never logged. Passwords go here, not into argv.</summary>
    public string? StandardInput { get; init; }

    public ImmutableArray<int> AllowedExitCodes { get; init; } = [0];

    /// <summary>Keep stdout/stderr in the result (always streamed to the log as well, unless <see cref="Quiet"/>).</summary>
    public bool CaptureOutput { get; init; }

    /// <summary>Do not stream output lines to the log (still captured when asked).</summary>
    public bool Quiet { get; init; }

    /// <summary>Prefix of every logged output line, e.g. <c>docker:backend</c>. Defaults to the executable name.</summary>
    public string? LogPrefix { get; init; }

    /// <summary>A probe that changes nothing: it runs under --dry-run too.</summary>
    public bool IsReadOnly { get; init; }

    public TimeSpan? Timeout { get; init; }

    /// <summary>On cancellation, after the single interrupt: how long to wait before killing the process tree.</summary>
    public TimeSpan InterruptGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// On cancellation, send one interrupt and then wait for the child however long it takes, never kill it
    /// (Terraform: a second signal makes it abandon its state lock).
    /// </summary>
    public bool WaitForExitOnCancel { get; init; }

    public ToolCommand WithArguments(params IEnumerable<string> arguments) => this with { Arguments = [.. Arguments, .. arguments] };

    public ToolCommand WithEnvironment(string name, string? value) => this with { Environment = Environment.SetItem(name, value) };

    public ToolCommand WithWorkingDirectory(string? directory) => this with { WorkingDirectory = directory };

    public ToolCommand WithStandardInput(string? secretInput) => this with { StandardInput = secretInput };

    public ToolCommand WithAllowedExitCodes(params int[] codes) => this with { AllowedExitCodes = [.. codes] };

    public ToolCommand Capturing(bool capture = true) => this with { CaptureOutput = capture };

    public ToolCommand ReadOnly(bool readOnly = true) => this with { IsReadOnly = readOnly };

    public ToolCommand Prefixed(string prefix) => this with { LogPrefix = prefix };

    /// <summary>The command line as a person would type it, quoted where needed and with secrets redacted.</summary>
    public string Display => Secrets.Redact(string.Join(' ', new[] { Executable }.Concat(Arguments).Select(Quote)));

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || "-_./:=@,+%^".Contains(c))
            ? argument
            : "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
