using Tesslate.Build.Platform;

namespace Tesslate.Build;

internal sealed partial class Build
{
    private Task GenerateWorkflowsAsync(CancellationToken cancellationToken) =>
        PipelineWorkflows.GenerateAsync(RootDirectory, Check, Runner, Log, cancellationToken);
}
