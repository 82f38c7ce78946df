using System.Collections.Concurrent;
using Tesslate.Build.Engine.Processes;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>Runs commands for real and remembers them, so a test can say which docker commands a run made (not a fake).</summary>
public sealed class RecordingProcessRunner(IProcessRunner inner, ConcurrentQueue<ToolCommand> record) : IProcessRunner
{
    public bool DryRun => inner.DryRun;

    public Task<ProcessResult> RunAsync(ToolCommand command, CancellationToken cancellationToken)
    {
        record.Enqueue(command);
        return inner.RunAsync(command, cancellationToken);
    }
}
