namespace Tesslate.Build.Engine;

/// <summary>
/// A failure the user can act on: what went wrong and how to fix it.
/// The top level prints it without a stack trace (unless --verbosity verbose) and exits with <see cref="ExitCode"/>.
/// </summary>
public class BuildFailure : Exception
{
    public BuildFailure(string problem, string? fix = null, Exception? inner = null, int exitCode = ExitCodes.TargetFailed)
        : base(Secrets.Redact(problem), inner)
    {
        Problem = Secrets.Redact(problem);
        Fix = fix is null ? null : Secrets.Redact(fix);
        ExitCode = exitCode;
    }

    public string Problem { get; }

    public string? Fix { get; }

    public int ExitCode { get; }

    public override string ToString() => Fix is null ? Problem : $"{Problem}{System.Environment.NewLine}  Fix: {Fix}";
}

/// <summary>Bad command-line input or configuration: exit code 2, detected before any target runs.</summary>
public sealed class UsageException(string problem, string? fix = null)
    : BuildFailure(problem, fix, exitCode: ExitCodes.Usage);

public static class ExitCodes
{
    public const int Success = 0;
    public const int TargetFailed = 1;
    public const int Usage = 2;
    public const int Interrupted = 130;
}

/// <summary>
/// Something the run needs is not there: a tool, an engine, credentials, a cluster, a source tree.
/// A failure normally; under --dry-run the engine reports it as "not checked in dry-run" and carries on.
/// </summary>
public sealed class PrerequisiteMissingException(string problem, string? fix = null, Exception? inner = null)
    : BuildFailure(problem, fix, inner);

/// <summary>
/// The read-only preparation is done and the next step needs an approval that was not given (no terminal, no
/// --approve). The target ends as AwaitingApproval; nothing after it runs; the run exits 1.
/// </summary>
public sealed class ApprovalRequiredException(string problem, string? fix = null) : BuildFailure(problem, fix);
