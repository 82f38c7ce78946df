namespace Tesslate.Build.Images;

/// <summary>
/// A temporary copy of a build context holding only the files left after the ignore file (and the Dockerfile), so the
/// builder receives exactly that, whichever builder it is. Deleted on dispose.
/// </summary>
public sealed class StagedContext : IDisposable
{
    private readonly string _root;

    private StagedContext(string root, string directory, string dockerfile)
    {
        _root = root;
        Directory = directory;
        Dockerfile = dockerfile;
    }

    public string Directory { get; }

    public string Dockerfile { get; }

    public static StagedContext Create(ImageSource source)
    {
        var root = Path.Combine(Path.GetTempPath(), "tesslate-context", $"{source.Name}-{Guid.NewGuid():N}");
        var directory = Path.Combine(root, "context");
        System.IO.Directory.CreateDirectory(directory);
        foreach (var file in BuildContext.Files(source.ContextDirectory, source.Ignore))
            Copy(file.FullPath, Path.Combine(directory, file.RelativePath), file.IsSymbolicLink);
        // The builder reads the Dockerfile from beside the context: an ignored Dockerfile stays out of COPY ., as with Docker.
        var dockerfile = Path.Combine(root, "Dockerfile");
        Copy(source.DockerfilePath, dockerfile, false);
        return new StagedContext(root, directory, dockerfile);
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
            System.IO.Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless; the build result is what matters.
        }
    }
}
