namespace Tesslate.Build.Engine.Tests;

/// <summary>Executable bash scripts written for a test: real children for the process runner and the scheduler.</summary>
internal static class BashScript
{
    public static string Write(string directory, string name, string body)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, "#!/usr/bin/env bash\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
