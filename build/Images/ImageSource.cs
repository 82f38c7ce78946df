using Tesslate.Build.Engine;

namespace Tesslate.Build.Images;

/// <summary>An image definition with its paths resolved against a source root: where the context, Dockerfile and ignore file are.</summary>
public sealed record ImageSource(
    ImageDefinition Definition,
    string SourceRoot,
    string ContextDirectory,
    string DockerfilePath,
    string? IgnoreFilePath)
{
    public string Name => Definition.Name;

    public DockerIgnore Ignore => DockerIgnore.Load(IgnoreFilePath);

    /// <summary>
    /// Resolves a definition's paths. Bad input fails here, before any side effect: a source root that does not exist,
    /// a missing context or Dockerfile (naming the catalog file and field), a Dockerfile outside its context.
    /// </summary>
    public static ImageSource Resolve(ImageDefinition definition, string sourceRoot, string? catalogDirectory)
    {
        var root = RequireSourceRoot(sourceRoot);
        var file = string.IsNullOrEmpty(definition.SourceFile) ? definition.Name : definition.SourceFile;
        var context = Path.GetFullPath(Path.Combine(root, definition.Context));
        if (!IsInside(context, root))
            throw new UsageException($"{file}: field 'context' ('{definition.Context}') points outside the source root {root}.", "Use a path inside the application checkout.");
        if (!Directory.Exists(context))
            throw new UsageException($"{file}: field 'context': directory '{definition.Context}' does not exist under the source root {root}.",
                $"Check the path in the catalog file, and that the source root {root} is a checkout of the application repository.");
        var dockerfile = Path.GetFullPath(Path.Combine(root, definition.Dockerfile));
        if (!File.Exists(dockerfile))
            throw new UsageException($"{file}: field 'dockerfile': '{definition.Dockerfile}' does not exist under the source root {root}.",
                $"Check the path in the catalog file, and that the source root {root} is a checkout of the application repository.");
        if (!IsInside(dockerfile, context))
            throw new UsageException($"{file}: field 'dockerfile' ('{definition.Dockerfile}') is outside the build context '{definition.Context}'.",
                "Move the Dockerfile into the context, or widen 'context' so it contains the Dockerfile.");

        string? ignore;
        if (definition.IgnoreFile is { Length: > 0 } ignoreFile)
        {
            ignore = Path.GetFullPath(Path.Combine(catalogDirectory ?? root, ignoreFile));
            if (!File.Exists(ignore))
                throw new UsageException($"{file}: field 'ignoreFile': '{ignoreFile}' does not exist (resolved to {ignore}).", "Create the ignore file next to the catalog files, or remove the field.");
        }
        else
        {
            var fallback = Path.Combine(context, ".dockerignore");
            ignore = File.Exists(fallback) ? fallback : null;
        }
        return new ImageSource(definition, root, context, dockerfile, ignore);
    }

    public static string RequireSourceRoot(string sourceRoot)
    {
        var root = Path.GetFullPath(sourceRoot);
        if (!Directory.Exists(root))
            throw new UsageException($"The source root '{sourceRoot}' does not exist.", "Use the path of a checkout of the application repository (orchestrator/, app/, services/ ...).");
        return root;
    }

    private static bool IsInside(string path, string directory)
    {
        var relative = Path.GetRelativePath(directory, path);
        return relative == "." || !(relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative));
    }
}
