namespace Tesslate.Build.Engine.Processes;

/// <summary>Finds executables on PATH (with PATHEXT on Windows), honouring <c>&lt;TOOL&gt;_EXE</c> overrides as NUKE does.</summary>
public static class ToolLocator
{
    public static string? Find(string executable)
    {
        var overrideVariable = executable.ToUpperInvariant().Replace('-', '_') + "_EXE";
        if (System.Environment.GetEnvironmentVariable(overrideVariable) is { Length: > 0 } overridden && File.Exists(overridden))
            return overridden;
        if (Path.IsPathRooted(executable))
            return File.Exists(executable) ? executable : null;

        var extensions = OperatingSystem.IsWindows()
            ? (System.Environment.GetEnvironmentVariable("PATHEXT") ?? ".EXE;.CMD;.BAT").Split(';').Prepend(string.Empty)
            : [string.Empty];
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var extension in extensions)
            {
                var candidate = Path.Combine(directory, executable + extension);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return null;
    }

    public static string Require(string executable, string installHint) =>
        Find(executable) ?? throw new PrerequisiteMissingException($"'{executable}' was not found on PATH.", installHint);
}
