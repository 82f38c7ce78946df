using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;

namespace Tesslate.Build.GitHub;

/// <summary>A GitHub token and where it came from (never the value itself in messages).</summary>
public sealed record GitHubToken(string Value, string Source)
{
    public override string ToString() => $"GitHub token from {Source}";
}

public static class GitHubTokenSource
{
    /// <summary>
    /// The first token found in: the explicit value (the pipeline's <c>--github-token</c>), <c>GITHUB_TOKEN</c>, then <c>gh auth token</c>
    /// (a read-only probe, skipped when gh is not installed or not logged in). Registered as a secret before it is returned.
    /// </summary>
    /// <param name="explicitSource">How the caller's user gave <paramref name="explicitToken"/>, reported as its source.</param>
    public static async Task<GitHubToken?> ResolveAsync(string? explicitToken, Func<string, string?> environment, IProcessRunner runner,
        ILogger logger, CancellationToken cancellationToken, string explicitSource = "the explicit token")
    {
        if (!string.IsNullOrWhiteSpace(explicitToken))
            return Registered(explicitToken.Trim(), explicitSource);
        if (environment("GITHUB_TOKEN") is { Length: > 0 } fromEnvironment)
            return Registered(fromEnvironment.Trim(), "GITHUB_TOKEN");
        if (ToolLocator.Find("gh") is null)
            return null;

        var probe = new ToolCommand("gh", ["auth", "token"])
        {
            CaptureOutput = true,
            Quiet = true,
            IsReadOnly = true,
            AllowedExitCodes = [0, 1, 4],
            Timeout = TimeSpan.FromSeconds(15),
            LogPrefix = "gh",
        };
        try
        {
            var result = await runner.RunAsync(probe, cancellationToken);
            var token = result.StandardOutput.Trim();
            return result.ExitCode == 0 && token.Length > 0 && !token.Contains('\n') ? Registered(token, "gh auth token") : null;
        }
        catch (BuildFailure failure)
        {
            logger.Debug("gh auth token did not give a token: {Problem}", failure.Problem);
            return null;
        }
    }

    private static GitHubToken Registered(string value, string source)
    {
        Secrets.Register(value);
        return new GitHubToken(value, source);
    }
}
