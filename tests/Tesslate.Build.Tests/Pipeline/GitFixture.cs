using System.Diagnostics;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>Real git repositories in a temp folder: an application with a submodule that has a nested submodule.</summary>
internal sealed class GitSandbox : IDisposable
{
    public GitSandbox() => Directory = System.IO.Directory.CreateTempSubdirectory("git").FullName;

    public string Directory { get; }

    public string Path(params string[] parts) => System.IO.Path.Combine([Directory, .. parts]);

    /// <summary>Creates a repository with one committed file and returns its path.</summary>
    public string CreateRepository(string name, string file = "README.md", string content = "hello\n", bool bare = false)
    {
        var work = Path(name + "-work");
        Git(Directory, "init", "-q", "-b", "main", work);
        File.WriteAllText(System.IO.Path.Combine(work, file), content);
        Git(work, "add", ".");
        Git(work, "commit", "-q", "-m", "initial");
        if (!bare)
            return work;
        var barePath = Path(name + ".git");
        Git(Directory, "clone", "-q", "--bare", work, barePath);
        return barePath;
    }

    public static string Git(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-c", "user.email=tests@tesslate.invalid", "-c", "user.name=Tests", "-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main" }.Concat(arguments))
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(60_000) || process.ExitCode != 0)
            throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed: {error}");
        return output;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
