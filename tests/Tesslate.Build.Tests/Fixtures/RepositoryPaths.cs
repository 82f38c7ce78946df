using System.Runtime.CompilerServices;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>Paths in this repository, found from this source file (test binaries may live elsewhere, e.g. under TESSLATE_ARTIFACTS).</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Images => Path.Combine(Root, "images");

    public static string FixtureApp => Path.Combine(Root, "tests", "fixtures", "app");

    private static string FindRoot([CallerFilePath] string path = "")
    {
        var directory = Path.GetDirectoryName(path);
        while (directory is not null && !File.Exists(Path.Combine(directory, "Tesslate.Build.sln")))
            directory = Path.GetDirectoryName(directory);
        return directory ?? throw new InvalidOperationException($"Tesslate.Build.sln not found above {path}.");
    }
}
