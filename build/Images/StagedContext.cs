namespace Tesslate.Build.Images;

/// <summary>
/// A temporary copy of a build context holding only the files left after the ignore file (and the Dockerfile), so the
/// builder receives exactly that, whichever builder it is. Deleted on dispose.
/// </summary>
public sealed class StagedContext : IDisposable
{
    private StagedContext(string directory, string dockerfile)
    {
        Directory = directory;
        Dockerfile = dockerfile;
    }

    public string Directory { get; }

    public string Dockerfile { get; }

    public static StagedContext Create(ImageSource source)
    {
        var directory = Path.Combine(Path.GetTempPath(), "tesslate-context", $"{source.Name}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        foreach (var file in BuildContext.Files(source.ContextDirectory, source.Ignore))
            Copy(file.FullPath, Path.Combine(directory, file.RelativePath), file.IsSymbolicLink);
        // Docker always sends the Dockerfile, even when the ignore file matches it.
        var dockerfile = Path.Combine(directory, Path.GetRelativePath(source.ContextDirectory, source.DockerfilePath));
        if (!File.Exists(dockerfile))
            Copy(source.DockerfilePath, dockerfile, false);
        return new StagedContext(directory, dockerfile);
    }

    private static void Copy(string from, string to, bool symbolicLink)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        if (symbolicLink)
            File.CreateSymbolicLink(to, new FileInfo(from).LinkTarget!);
        else
            File.Copy(from, to);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless; the build result is what matters.
        }
    }
}
