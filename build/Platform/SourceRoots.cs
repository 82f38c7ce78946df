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
