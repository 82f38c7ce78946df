using System.Reflection;
using System.Runtime.CompilerServices;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// The tests' one way to find this repository: the root the build recorded in the assembly (Directory.Build.props),
/// else the first folder holding Tesslate.Build.sln above this source file, the test binaries or the working directory.
/// Binaries may live elsewhere (TESSLATE_ARTIFACTS), so the binaries' folder alone is not enough.
/// </summary>
public static class RepositoryPaths
{
    private const string Marker = "Tesslate.Build.sln";

    public static string Root { get; } = FindRoot();

    public static string Images => Path.Combine(Root, "images");

    public static string FixtureApp => Path.Combine(Root, "tests", "fixtures", "app");

    private static string FindRoot([CallerFilePath] string sourceFile = "")
    {
        var recorded = typeof(RepositoryPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        if (recorded is not null && File.Exists(Path.Combine(recorded, Marker)))
            return recorded;
        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var directory = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, Marker)))
                    return directory.FullName;
            }
        }
        throw new InvalidOperationException($"{Marker} not found above the recorded root, the test sources, the test binaries or the working directory.");
    }
}
