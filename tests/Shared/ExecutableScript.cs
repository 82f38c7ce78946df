namespace Tesslate.Build.Testing;

/// <summary>The tests' one way to write a script a test runs as a program: the file, then u+rwx (the owner only).</summary>
public static class ExecutableScript
{
    /// <summary>Writes <paramref name="text"/> (UTF-8, no BOM) to <paramref name="path"/> and makes it executable.</summary>
    public static string Write(string path, string text)
    {
        File.WriteAllText(path, text);
        MakeExecutable(path);
        return path;
    }

    /// <summary>A bash script <paramref name="name"/> in <paramref name="directory"/> running <paramref name="body"/>.</summary>
    public static string Bash(string directory, string name, string body) =>
        Write(Path.Combine(directory, name), "#!/usr/bin/env bash\n" + body + "\n");

    public static void MakeExecutable(string path)
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
