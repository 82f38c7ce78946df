using Tesslate.Build.Engine;
using Tesslate.Build.Images;

namespace Tesslate.Build.Platform;

/// <summary>How a source root is set, for every message that asks for one.</summary>
public static class SourceRoots
{
    /// <summary>The three ways to set a source root, e.g. to a sibling clone <c>../Studio</c>.</summary>
    public const string Fix = """
        Point the pipeline at a checkout of the application repository (TesslateAI/Studio layout: orchestrator/, app/, services/), e.g. a sibling clone ../Studio, in one of three ways:
              --source-root ../Studio                              for this run
              export TESSLATE_SOURCE_ROOT=../Studio                for this shell
              "SourceRoot": "../Studio" in .nuke/parameters.json   for this clone (relative to the repository root)
          ./build.sh Doctor --environment <env> shows which one is in effect and the commit it points at.
        """;
}

/// <summary>Which source root a build uses: the one given, else the environment's fallback (the fixture app for local).</summary>
public static class SourceRootChoice
{
    /// <summary>
    /// The given root (which must exist), else <paramref name="fallback"/>; with neither, null under dry-run (tags then print
    /// as "computed at run time") and a usage error naming --source-root otherwise.
    /// </summary>
    public static string? Resolve(string? given, string? fallback, bool dryRun, string environment)
    {
        if (!string.IsNullOrWhiteSpace(given))
        {
            if (!Directory.Exists(given))
                throw new UsageException($"--source-root '{given}' does not exist.", "Pass --source-root with the path of a checkout of the application repository (orchestrator/, app/, services/ ...).");
            return ImageSource.RequireSourceRoot(given);
        }
        if (!string.IsNullOrWhiteSpace(fallback))
            return ImageSource.RequireSourceRoot(fallback);
        if (dryRun)
            return null;
        throw new UsageException($"--source-root is required for --environment {environment}: images are built from a checkout of the application repository.", SourceRoots.Fix);
    }
}
