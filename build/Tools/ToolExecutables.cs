namespace Tesslate.Build.Tools;

/// <summary>
/// The executables of the tools the pipeline starts, read from the run's injected environment (not the process's, which
/// an in-process run with its own environment does not share): <c>&lt;TOOL&gt;_EXE</c> replaces the name looked up on PATH.
/// </summary>
public sealed record ToolExecutables(string Git, string Docker, string Terraform, string Kubectl)
{
    public static ToolExecutables OnPath { get; } = new("git", "docker", "terraform", "kubectl");

    public static ToolExecutables From(IReadOnlyDictionary<string, string> environment) =>
        new(Pick(environment, "git"), Pick(environment, "docker"), Pick(environment, "terraform"), Pick(environment, "kubectl"));

    private static string Pick(IReadOnlyDictionary<string, string> environment, string tool) =>
        environment.GetValueOrDefault(tool.ToUpperInvariant() + "_EXE") is { Length: > 0 } path ? path : tool;
}
