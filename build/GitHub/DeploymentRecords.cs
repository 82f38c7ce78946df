using Serilog;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Git;

namespace Tesslate.Build.GitHub;

/// <summary>One call for a deploy target: find the token and the repository, and hand back a ready recorder.</summary>
public static class DeploymentRecords
{
    /// <summary>
    /// A recorder for deploying <paramref name="commitSha"/> of this repository, with <paramref name="applicationCommit"/>
    /// of the application, to <paramref name="environment"/>. Inside Actions the repository, commit, API address and run
    /// URL come from the runner's variables; on a laptop the repository comes from <c>git remote get-url origin</c>.
    /// Never throws for a missing token or an unrecognised remote: the recorder then skips, saying so once.
    /// </summary>
    /// <param name="variables">The run's environment variables (default: the process's).</param>
    /// <param name="tokenSetting">How the caller's user gives <paramref name="explicitToken"/> (the pipeline: <c>--github-token</c>), for the messages.</param>
    public static async Task<DeploymentRecorder> CreateAsync(string? explicitToken, string environment, string commitSha, string? applicationCommit, bool productionEnvironment,
        string repositoryDirectory, IProcessRunner runner, ILogger logger, CancellationToken cancellationToken, Func<string, string?>? variables = null, string? tokenSetting = null)
    {
        variables ??= System.Environment.GetEnvironmentVariable;
        var git = variables("GIT_EXE") is { Length: > 0 } gitExe ? gitExe : "git";
        var run = ActionsRun.FromEnvironment(variables);
        var token = await GitHubTokenSource.ResolveAsync(explicitToken, variables, runner, logger, cancellationToken, tokenSetting ?? "the explicit token");
        var repository = run?.Repository ?? await OriginAsync(repositoryDirectory, runner, git, cancellationToken);
        if (repository is null)
        {
            logger.Information("GitHub deployment record skipped: the origin remote is not a GitHub repository.");
            token = null;
        }
        var request = new DeploymentRequest(repository ?? new GitHubRepository("unknown", "unknown"), environment, run?.Sha ?? commitSha)
        {
            ApplicationCommit = applicationCommit,
            ProductionEnvironment = productionEnvironment,
            LogUrl = run?.RunUrl,
        };
        return repository is null
            ? new DeploymentRecorder(null, request, logger)
            : DeploymentRecorder.Create(token, run?.ApiUrl ?? new Uri("https://api.github.com"), request, logger, tokenSetting);
    }

    private static async Task<GitHubRepository?> OriginAsync(string directory, IProcessRunner runner, string git, CancellationToken cancellationToken)
    {
        if (ToolLocator.Find(git) is null)
            return null;
        return await new GitRepository(runner, directory, git).RemoteUrlAsync("origin", cancellationToken) is { } url ? GitHubRepository.TryParseRemote(url) : null;
    }
}
