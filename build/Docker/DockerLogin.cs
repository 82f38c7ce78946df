using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;

namespace Tesslate.Build.Docker;

/// <summary>
/// <c>docker login --username &lt;u&gt; --password-stdin &lt;registry&gt;</c>, as <c>aws ecr get-login-password | docker login</c>
/// does: the password goes through standard input, never argv and never a log line.
/// </summary>
public static class DockerLogin
{
    /// <param name="dockerConfig">A Docker config directory (--config); null for the user's own (~/.docker).</param>
    /// <param name="docker">The CLI and engine (DOCKER_EXE, DOCKER_HOST) the login is for; null: docker on PATH, its own engine.</param>
    public static ToolCommand Command(string registry, string username, string password, string? dockerConfig = null, DockerOptions? docker = null)
    {
        if (string.IsNullOrWhiteSpace(registry) || registry.Contains(' ', StringComparison.Ordinal))
            throw new UsageException($"'{registry}' is not a registry host.", "Pass a registry such as 123456789012.dkr.ecr.us-east-1.amazonaws.com or localhost:5000.");
        Secrets.RegisterBasicCredentials(username, password);
        var arguments = new List<string>();
        if (dockerConfig is not null)
            arguments.AddRange(["--config", dockerConfig]);
        arguments.AddRange(["login", "--username", username, "--password-stdin", registry]);
        return DockerCli.CommandFor(docker ?? new DockerOptions(), arguments).WithStandardInput(password).Capturing().Prefixed("docker:login");
    }

    public static async Task LoginAsync(IProcessRunner runner, string registry, string username, string password, CancellationToken cancellationToken,
        string? dockerConfig = null, DockerOptions? docker = null)
    {
        var command = Command(registry, username, password, dockerConfig, docker);
        try
        {
            await runner.RunAsync(command, cancellationToken);
        }
        catch (ProcessFailedException e)
        {
            throw new BuildFailure($"docker login to {registry} failed (exit {e.Result.ExitCode}): {string.Join(" ", e.Result.LastLines(3))}",
                $"Check that {registry} is reachable and the credentials are current (for ECR: the account and region of the registry).", e);
        }
    }
}
