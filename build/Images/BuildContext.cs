namespace Tesslate.Build.Images;

/// <summary>A file the builder would receive: its context-relative path (with <c>/</c>) and where it is on disk.</summary>
public sealed record ContextFile(string RelativePath, string FullPath, bool IsSymbolicLink);

/// <summary>
/// The files of a build context after its ignore file, tracked or untracked, submodule files included: what
/// <c>docker build</c> would send. <c>.git</c> entries are never sent (their content changes on every commit).
/// </summary>
public static class BuildContext
{
    public static IReadOnlyList<ContextFile> Files(string contextDirectory, DockerIgnore ignore)
    {
        var files = new List<ContextFile>();
        Walk(contextDirectory, "", ignore, files);
        files.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return files;
    }

    private static void Walk(string directory, string relative, DockerIgnore ignore, List<ContextFile> files)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (entry.Name == ".git")
                continue;
            var path = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            var isLink = entry.LinkTarget is not null;
            if (entry is DirectoryInfo && !isLink)
            {
                // An excluded directory can be skipped whole unless a '!' line might re-include something below it.
                if (ignore.IsExcluded(path) && !ignore.HasExceptions)
                    continue;
                Walk(entry.FullName, path, ignore, files);
            }
            else if (!ignore.IsExcluded(path))
                files.Add(new ContextFile(path, entry.FullName, isLink));
        }
    }

    /// <summary>The files a COPY/ADD source can read: the path itself, everything below it, or what its wildcards match (Go's filepath.Match per prefix).</summary>
    public static IEnumerable<ContextFile> Readable(IReadOnlyList<ContextFile> files, IEnumerable<string> sources)
    {
        var matchers = sources.Select(SourceMatcher).ToList();
        return files.Where(f => matchers.Any(m => m(f.RelativePath)));
    }

    private static Func<string, bool> SourceMatcher(string source)
    {
        if (source is "." or "")
            return _ => true;
        if (source.IndexOfAny(['*', '?', '[']) < 0)
            return path => path == source || path.StartsWith(source + "/", StringComparison.Ordinal);
        var regex = PathPattern.Compile(source, anyDirectories: false);
        return path =>
        {
            // A match on a directory prefix copies the whole directory.
            var end = path.Length;
            while (end > 0)
            {
                if (regex.IsMatch(path[..end]))
                    return true;
                end = path.LastIndexOf('/', end - 1);
            }
            return false;
        };
    }
}
