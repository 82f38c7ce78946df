using System.Collections.Concurrent;

namespace Tesslate.Build.Aws;

/// <summary>
/// Private temporary directories (0700) holding 0600 files with secrets. Each owner deletes its own on dispose; this registry
/// is the last line: whatever is still listed when the process exits (also after Ctrl-C) is deleted then.
/// </summary>
internal static class TemporarySecretFiles
{
    private static readonly ConcurrentDictionary<string, byte> Live = new();

    static TemporarySecretFiles() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var directory in Live.Keys)
            TryDelete(directory);
    };

    public static string CreateDirectory(string purpose)
    {
        var directory = OperatingSystem.IsWindows()
            ? Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"tesslate-{purpose}-{Guid.NewGuid():N}")).FullName
            : Directory.CreateTempSubdirectory($"tesslate-{purpose}-").FullName; // created 0700 on Unix
        Live[directory] = 0;
        return directory;
    }

    /// <summary>Writes <paramref name="content"/> to a new file readable only by the owner (0600 on Unix).</summary>
    public static async Task WriteAsync(string path, string content, CancellationToken cancellationToken)
    {
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var stream = new FileStream(temporary, options))
        await using (var writer = new StreamWriter(stream))
            await writer.WriteAsync(content.AsMemory(), cancellationToken);
        // Replace atomically so a reader (kubectl re-reading a token file) never sees half a file.
        File.Move(temporary, path, overwrite: true);
    }

    public static void Delete(string directory)
    {
        TryDelete(directory);
        Live.TryRemove(directory, out _);
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
