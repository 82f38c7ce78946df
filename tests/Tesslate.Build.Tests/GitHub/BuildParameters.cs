using Tesslate.Build.Engine;
using Tesslate.Build.Platform;

namespace Tesslate.Build.Tests.GitHub;

/// <summary>The real Build's parameters, as the GenerateWorkflows target hands them to the declarations.</summary>
internal static class BuildParameters
{
    public static IReadOnlyList<ParameterDescriptor> All { get; } = ParameterBinder.Discover(new Build(), "TESSLATE_");

    public static DeployInputs DeployInputs { get; } = Build.DeployInputs(All);
}
