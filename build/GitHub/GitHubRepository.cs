using System.Text.RegularExpressions;

namespace Tesslate.Build.GitHub;

/// <summary>owner/name of a GitHub repository.</summary>
public sealed partial record GitHubRepository(string Owner, string Name)
{
    [GeneratedRegex(@"^(?:https?://(?:[^@/]+@)?[^/]+/|git@[^:]+:|ssh://git@[^/]+/)(?<owner>[A-Za-z0-9_.-]+)/(?<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")]
    private static partial Regex RemotePattern();

    public override string ToString() => $"{Owner}/{Name}";

    /// <summary>From <c>owner/name</c> (as in <c>GITHUB_REPOSITORY</c>).</summary>
    public static GitHubRepository? TryParse(string? value) =>
        value?.Split('/') is [{ Length: > 0 } owner, { Length: > 0 } name] ? new GitHubRepository(owner, name) : null;

    /// <summary>From a git remote URL: https, ssh or scp-like (<c>git@github.com:owner/name.git</c>).</summary>
    public static GitHubRepository? TryParseRemote(string? url) =>
        url is not null && RemotePattern().Match(url.Trim()) is { Success: true } match
            ? new GitHubRepository(match.Groups["owner"].Value, match.Groups["name"].Value)
            : null;
}

/// <summary>The GitHub Actions run this process is part of, read from the variables the runner sets.</summary>
public sealed record ActionsRun(GitHubRepository Repository, string Sha, string RunId, Uri ServerUrl, Uri ApiUrl)
{
    public string RunUrl => $"{ServerUrl.ToString().TrimEnd('/')}/{Repository}/actions/runs/{RunId}";

    /// <summary>The run, or null outside Actions (<c>GITHUB_ACTIONS</c> is not <c>true</c>).</summary>
    public static ActionsRun? FromEnvironment(Func<string, string?> environment)
    {
        if (environment("GITHUB_ACTIONS") != "true")
            return null;
        if (GitHubRepository.TryParse(environment("GITHUB_REPOSITORY")) is not { } repository
            || environment("GITHUB_SHA") is not { Length: > 0 } sha
            || environment("GITHUB_RUN_ID") is not { Length: > 0 } runId)
            return null;
        var server = environment("GITHUB_SERVER_URL") is { Length: > 0 } s ? new Uri(s) : new Uri("https://github.com");
        var api = environment("GITHUB_API_URL") is { Length: > 0 } a ? new Uri(a) : new Uri("https://api.github.com");
        return new ActionsRun(repository, sha, runId, server, api);
    }
}
