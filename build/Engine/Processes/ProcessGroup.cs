namespace Tesslate.Build.Engine.Processes;

/// <summary>
/// Starts a child in a process group of its own. A terminal's Ctrl-C goes to the whole foreground group; a child in
/// that group would get it once from the terminal and once more from our graceful cancellation, and a second interrupt
/// makes Terraform abandon its state lock. .NET cannot call setpgid itself, so a tiny exec wrapper does it:
/// <c>setsid</c> where util-linux has it, perl's <c>setpgrp</c> on macOS. Windows needs neither.
/// </summary>
public static class ProcessGroup
{
    private static readonly Lazy<(string Launcher, string[] Prefix)?> Launcher = new(FindLauncher);

    public static (string FileName, IReadOnlyList<string> Arguments) Wrap(string executable, IReadOnlyList<string> arguments)
    {
        if (Launcher.Value is not { } launcher)
            return (executable, arguments);
        return (launcher.Launcher, [.. launcher.Prefix, executable, .. arguments]);
    }

    private static (string, string[])? FindLauncher()
    {
        if (OperatingSystem.IsWindows())
            return null;
        if (ToolLocator.Find("setsid") is { } setsid)
            return (setsid, []);
        if (ToolLocator.Find("perl") is { } perl)
            return (perl, ["-e", "setpgrp(0,0); exec { $ARGV[0] } @ARGV or die \"exec $ARGV[0]: $!\\n\";"]);
        return null;
    }
}
