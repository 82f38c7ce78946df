using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Tools;

namespace Tesslate.Build.Kubernetes;

/// <summary>Renders a kustomization with <c>kubectl kustomize</c> (offline, read-only) into generic objects.</summary>
public sealed class KustomizeRenderer(IProcessRunner runner, string kubectl = "kubectl")
{
    /// <summary><c>kubectl version --client -o json</c>: the client and its embedded kustomize, for a prerequisite probe.</summary>
    public static ToolCommand VersionCommand(string kubectl = "kubectl") => new ToolCommand(kubectl, ["version", "--client", "-o", "json"]).Prefixed("kubectl");

    public async Task<IReadOnlyList<KubeObject>> RenderAsync(string directory, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
            throw new BuildFailure($"Kustomize overlay not found: {full}", "Check the environment name, or that the k8s/ tree is checked out.");
        var command = new ToolCommand(kubectl, ["kustomize", full]).Prefixed("kustomize").AsProbe().WithAllowedExitCodes(0, 1);
        var result = await runner.RunAsync(command, cancellationToken);
        if (result.ExitCode != 0)
            throw new BuildFailure($"The overlay {full} does not render: {string.Join(Environment.NewLine, result.Output.Where(l => l.IsError).Select(l => l.Text).DefaultIfEmpty(result.StandardOutput))}",
                $"Fix the kustomization under {full}; reproduce with: kubectl kustomize {full}");
        try
        {
            return ManifestYaml.Parse(result.StandardOutput, full);
        }
        catch (FormatException e)
        {
            throw new BuildFailure($"The overlay {full} rendered something that is not a list of Kubernetes objects: {e.Message}",
                $"Check the output of: kubectl kustomize {full}");
        }
    }
}
