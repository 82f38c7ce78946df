using Tesslate.Build.Engine;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

internal sealed partial class Build
{
    private Task GenerateWorkflowsAsync(CancellationToken cancellationToken) =>
        PipelineWorkflows.GenerateAsync(RootDirectory, Check, DeployInputs(Parameters), Runner, Log, cancellationToken);

    /// <summary>The parameters deploy.yml offers as dispatch inputs, named by member so that renaming one renames its input.</summary>
    internal static DeployInputs DeployInputs(IReadOnlyList<ParameterDescriptor> parameters)
    {
        ParameterDescriptor Named(string member) => parameters.Single(p => p.Member.Name == member);
        return new(Named(nameof(Environment)), Named(nameof(ApplicationRef)), [Named(nameof(Images)), Named(nameof(ForceBuild))]);
    }
}
