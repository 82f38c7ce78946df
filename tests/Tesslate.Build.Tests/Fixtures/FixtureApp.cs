using System.Diagnostics;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// A temporary git copy of tests/fixtures/app whose packages/tesslate-agent is a real submodule (a bare repository in
/// the same temp dir), committed, ready to build. Deleted on dispose.
/// </summary>
public sealed class FixtureApp : IDisposable
{
    private FixtureApp(string directory) => Directory = directory;

    public string Directory { get; }

    public string Root => Path.Combine(Directory, "app");

    public static FixtureApp Create()
    {
        var app = new FixtureApp(System.IO.Directory.CreateTempSubdirectory("tesslate-app-").FullName);
        DirectoryCopy.Copy(RepositoryPaths.FixtureApp, app.Root);

        // The agent package becomes a submodule, as in the application repository.
        var agent = Path.Combine(app.Directory, "agent-src");
        DirectoryCopy.Copy(Path.Combine(app.Root, "packages", "tesslate-agent"), agent);
        System.IO.Directory.Delete(Path.Combine(app.Root, "packages", "tesslate-agent"), true);
        Git(agent, "init", "-q", "-b", "main");
        Git(agent, "add", "-A");
        Git(agent, "commit", "-q", "-m", "agent");
        Git(app.Root, "init", "-q", "-b", "main");
        Git(app.Root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", agent, "packages/tesslate-agent");
        app.Commit("fixture app");
        return app;
    }

    public void Write(string relative, string content)
    {
        var path = Path.Combine(Root, relative);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public string Commit(string message)
    {
        Git(Root, "add", "-A");
        Git(Root, "commit", "-q", "--allow-empty", "-m", message);
        return Git(Root, "rev-parse", "HEAD").Trim();
    }

    public string Head => Git(Root, "rev-parse", "HEAD").Trim();

    /// <summary>The tests' one way to run git: a fixed identity, no signing, file-protocol submodules; fails with git's error.</summary>
    public static string Git(string directory, params string[] arguments)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-c", "user.name=Tests", "-c", "user.email=tests@tesslate.invalid", "-c", "commit.gpgsign=false",
                     "-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main", .. arguments])
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(60_000) || process.ExitCode != 0)
            throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed in {directory}: {error}");
        return output;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
