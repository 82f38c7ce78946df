using Tesslate.Build.Tests.Fixtures;

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
        FixtureApp.Git(Directory, "init", "-q", "-b", "main", work);
        File.WriteAllText(System.IO.Path.Combine(work, file), content);
        FixtureApp.Git(work, "add", ".");
        FixtureApp.Git(work, "commit", "-q", "-m", "initial");
        if (!bare)
            return work;
        var barePath = Path(name + ".git");
        FixtureApp.Git(Directory, "clone", "-q", "--bare", work, barePath);
        return barePath;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
