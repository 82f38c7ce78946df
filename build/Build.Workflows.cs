using Tesslate.Build.Engine;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

internal sealed partial class Build
{
    Target GenerateWorkflows => _ => _
        .Description("Write .github/workflows from the declarations in build/Platform/Workflows.cs, validated by GitHub's parser (--check: fail with a diff if stale).")
        .Executes(ct => PipelineWorkflows.GenerateAsync(RootDirectory, Check, Runner, Log, ct));
}
