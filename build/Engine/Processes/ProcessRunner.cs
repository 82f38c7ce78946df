using System.Diagnostics;
using System.Text;
using CliWrap;
using Serilog;

namespace Tesslate.Build.Engine.Processes;

public interface IProcessRunner
{
    bool DryRun { get; }

    Task<ProcessResult> RunAsync(ToolCommand command, CancellationToken cancellationToken);
}

/// <summary>
/// Runs <see cref="ToolCommand"/>s through CliWrap: output streamed line by line with a prefix and redaction,
/// each child in its own process group so a terminal Ctrl-C reaches it exactly once (from us), and on cancellation
/// one interrupt, then a kill of the whole tree after the grace period (unless the command asks to be waited for).
/// Under dry-run only read-only commands run; the rest are printed.
/// </summary>
/// <param name="ownProcessGroups">false keeps children in the build's process group (an escape hatch where setsid misbehaves).</param>
public sealed class ProcessRunner(ILogger logger, bool dryRun = false, bool ownProcessGroups = true) : IProcessRunner
{
    public bool DryRun { get; } = dryRun;

    public async Task<ProcessResult> RunAsync(ToolCommand command, CancellationToken cancellationToken)
    {
        var prefix = command.LogPrefix ?? Path.GetFileNameWithoutExtension(command.Executable);
        if (DryRun && !command.IsReadOnly)
        {
            logger.Information("[dry-run] would run: {Command:l}", command.Display);
            return ProcessResult.DryRun;
        }

        var executable = ToolLocator.Find(command.Executable)
            ?? throw new PrerequisiteMissingException($"'{command.Executable}' was not found on PATH (needed for: {command.Display}).",
                $"Install {command.Executable} and make sure it is on PATH, or set {command.Executable.ToUpperInvariant()}_EXE to its full path.");

        logger.Debug("> {Command:l}{Directory:l}", command.Display, command.WorkingDirectory is null ? "" : $"  (in {command.WorkingDirectory})");

        var lines = new List<OutputLine>();
        var gate = new Lock();
        void OnLine(string line, bool isError)
        {
            var text = Secrets.Redact(line);
            if (command.CaptureOutput)
                lock (gate) lines.Add(new OutputLine(isError, text));
            else
                lock (gate) { lines.Add(new OutputLine(isError, text)); if (lines.Count > 200) lines.RemoveAt(0); }
            if (!command.Quiet)
                logger.Information("[{Prefix:l}] {Line:l}", prefix, text);
        }

        var (fileName, arguments) = ownProcessGroups ? ProcessGroup.Wrap(executable, command.Arguments) : (executable, command.Arguments);
        var cli = Cli.Wrap(fileName)
            .WithArguments(arguments)
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line => OnLine(line, false), Encoding.UTF8))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line => OnLine(line, true), Encoding.UTF8));
        if (command.WorkingDirectory is not null)
            cli = cli.WithWorkingDirectory(command.WorkingDirectory);
        if (!command.Environment.IsEmpty)
            cli = cli.WithEnvironmentVariables(command.Environment.ToDictionary(p => p.Key, p => p.Value));
        if (command.StandardInput is not null)
            cli = cli.WithStandardInputPipe(PipeSource.FromString(command.StandardInput, Encoding.UTF8));

        using var graceful = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var forceful = new CancellationTokenSource();
        if (command.Timeout is { } timeout)
            graceful.CancelAfter(timeout);
        await using var escalation = graceful.Token.Register(() =>
        {
            if (!command.WaitForExitOnCancel)
                forceful.CancelAfter(command.InterruptGracePeriod);
        });

        var stopwatch = Stopwatch.StartNew();
        int exitCode;
        try
        {
            var result = await cli.ExecuteAsync(forceful.Token, graceful.Token);
            exitCode = result.ExitCode;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && command.Timeout is { } limit)
        {
            throw new BuildFailure($"'{command.Display}' did not finish within {Durations.Format(limit)} and was stopped.",
                "Raise the timeout if the work is legitimately slow, or look at the last output lines above for where it hung.");
        }
        catch (OperationCanceledException)
        {
            logger.Warning("[{Prefix:l}] interrupted after {Elapsed:l}", prefix, Durations.Format(stopwatch.Elapsed));
            throw;
        }

        var processResult = new ProcessResult(exitCode, stopwatch.Elapsed, [.. lines]);
        if (!command.AllowedExitCodes.Contains(exitCode))
            throw new ProcessFailedException(command, processResult);
        return processResult;
    }
}
