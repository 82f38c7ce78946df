using Tesslate.Build.Engine.Processes;

namespace Tesslate.Build.Tools;

/// <summary>The one way the adapters mark a command quiet (no output lines in the log) or a probe.</summary>
public static class ToolCommandExtensions
{
    /// <summary>Output is not streamed to the log (still captured when asked).</summary>
    public static ToolCommand Quietly(this ToolCommand command, bool quiet = true) => command with { Quiet = quiet };

    /// <summary>A read-only question whose answer is the output: runs under --dry-run, captured, not logged line by line.</summary>
    public static ToolCommand AsProbe(this ToolCommand command) => command.ReadOnly().Capturing().Quietly();
}
