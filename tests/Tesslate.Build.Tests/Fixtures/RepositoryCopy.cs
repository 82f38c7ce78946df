namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// A temporary copy of parts of the repository for a pipeline run: a run writes .nuke/temp, never into the work tree.
/// The tests' one repository copy (the bootstrap sandbox copies build/ for its own reasons).
/// </summary>
internal static class RepositoryCopy
{
    /// <summary>
    /// The collection of tests whose runs push to and tag the catalog's repositories (tesslate-backend…) in the shared
    /// registry: they run one after the other, so one never moves the tags another asserts.
    /// </summary>
    public const string CatalogRepositories = "catalog repositories in the shared registry";

    /// <summary>The k8s, images and .nuke folders as one git commit (Deploy records the build repository's commit).</summary>
    public static string Create()
    {
        var root = Create([".nuke", "k8s", "images"]);
        FixtureApp.Git(root, "init", "-q", "-b", "main");
        FixtureApp.Git(root, "add", "-A");
        FixtureApp.Git(root, "commit", "-q", "-m", "copy");
        return root;
    }

    /// <summary>The named folders that exist (without .nuke/temp) and the solution file, not under git.</summary>
    public static string Create(IEnumerable<string> folders)
    {
        var root = Directory.CreateTempSubdirectory("tesslate-repo-").FullName;
        foreach (var folder in folders.Where(f => Directory.Exists(Path.Combine(RepositoryPaths.Root, f))))
            DirectoryCopy.Copy(Path.Combine(RepositoryPaths.Root, folder), Path.Combine(root, folder), path => path is ["temp", ..]);
        File.Copy(Path.Combine(RepositoryPaths.Root, "Tesslate.Build.sln"), Path.Combine(root, "Tesslate.Build.sln"));
        Directory.CreateDirectory(Path.Combine(root, ".nuke"));
        return root;
    }
}
