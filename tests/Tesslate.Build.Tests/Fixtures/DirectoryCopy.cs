namespace Tesslate.Build.Tests.Fixtures;

/// <summary>The tests' one folder copy: every file below a folder, but those in subfolders a caller leaves out.</summary>
internal static class DirectoryCopy
{
    /// <param name="leaveOut">Asked with the names of the folders between <paramref name="from"/> and a file.</param>
    public static void Copy(string from, string to, Func<IReadOnlyList<string>, bool>? leaveOut = null)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (leaveOut?.Invoke(Path.GetDirectoryName(relative)!.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries)) == true)
                continue;
            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
