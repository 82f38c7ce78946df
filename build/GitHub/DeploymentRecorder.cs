using Octokit;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.GitHub;

/// <summary>
/// What to record: which commit of this repository goes to which environment, and which application commit it deploys.
/// A deployment's ref must exist in the repository it is recorded in, so <see cref="CommitSha"/> is this repository's;
/// the application commit goes into the payload and the descriptions.
/// </summary>
public sealed record DeploymentRequest(GitHubRepository Repository, string Environment, string CommitSha)
{
    public string? Description { get; init; }

    /// <summary>The application repository's commit the release deploys, when known.</summary>
    public string? ApplicationCommit { get; init; }

    /// <summary>GitHub treats production deployments specially (never marked inactive by later ones).</summary>
    public bool ProductionEnvironment { get; init; }

    public bool TransientEnvironment { get; init; }

    /// <summary>Where the run's log is, e.g. the Actions run URL.</summary>
    public string? LogUrl { get; init; }
}

/// <summary>
/// Records a deploy as a GitHub Deployment so GitHub shows what is deployed where: created with the application commit
/// in its payload and description, <c>in_progress</c> at start, then <c>success</c> with the environment URL or
/// <c>failure</c> with the failing target and the summary's first lines. The same from a laptop and from Actions: the
/// generated deploy job names its environment with <c>deployment: false</c> (reviewers still gate it), so GitHub creates
/// no deployment of its own, whose payload nobody could set.
/// A deployment record is a side note of the deploy: every GitHub error is reported once, as a warning, and then the
/// recorder stays quiet; it never throws (except on cancellation).
/// </summary>
public sealed class DeploymentRecorder
{
    /// <summary>GitHub truncates nothing for us: a longer description is rejected.</summary>
    public const int MaxDescriptionLength = 140;

    /// <summary>The payload key that names the application commit.</summary>
    public const string ApplicationCommitKey = "application_commit";

    private readonly IGitHubClient? _client;
    private readonly DeploymentRequest _request;
    private readonly ILogger _logger;
    private bool _disabled;

    public DeploymentRecorder(IGitHubClient? client, DeploymentRequest request, ILogger logger)
    {
        _client = client;
        _request = request;
        _logger = logger;
    }

    /// <summary>The deployment the statuses go to, once <see cref="StartAsync"/> created or found it.</summary>
    public long? DeploymentId { get; private set; }

    /// <summary>False after a skip or an error: nothing more will be sent.</summary>
    public bool IsActive => _client is not null && !_disabled;

    /// <summary>
    /// A recorder for <paramref name="token"/> against <paramref name="apiUrl"/> (https://api.github.com, or a GitHub
    /// Enterprise / test server, to which Octokit appends <c>/api/v3/</c>). Without a token, says once that it skips.
    /// </summary>
    /// <param name="tokenSetting">How the caller's user gives a token (the pipeline: <c>--github-token</c>), for the skip message; null: not offered.</param>
    public static DeploymentRecorder Create(GitHubToken? token, Uri apiUrl, DeploymentRequest request, ILogger logger, string? tokenSetting = null)
    {
        if (token is null)
        {
            logger.Information("GitHub deployment record skipped: no token ({Pass:l}set GITHUB_TOKEN, or log in with 'gh auth login').", tokenSetting is null ? "" : $"pass {tokenSetting}, ");
            return new DeploymentRecorder(null, request, logger);
        }
        Secrets.Register(token.Value);
        var connection = new Connection(new ProductHeaderValue("Tesslate.Build"), ApiBase(apiUrl)) { Credentials = new Credentials(token.Value) };
        var client = new GitHubClient(connection);
        client.SetRequestTimeout(TimeSpan.FromSeconds(30));
        return new DeploymentRecorder(client, request, logger);
    }

    // github.com's API lives at https://api.github.com/; GitHub Enterprise (and test servers) under <server>/api/v3/,
    // the same rule GitHubClient applies to its base address.
    public static Uri ApiBase(Uri apiUrl)
    {
        if (apiUrl.Host.Equals("api.github.com", StringComparison.OrdinalIgnoreCase))
            return new Uri("https://api.github.com/");
        var text = apiUrl.ToString().TrimEnd('/');
        if (!text.EndsWith("/api/v3", StringComparison.OrdinalIgnoreCase))
            text += "/api/v3";
        return new Uri(text + "/");
    }

    /// <summary>Creates the deployment and marks it in progress.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!IsActive)
            return;
        await Guarded("create the deployment", async client =>
        {
            var deployment = await client.Repository.Deployment.Create(_request.Repository.Owner, _request.Repository.Name, new NewDeployment(_request.CommitSha)
            {
                Environment = _request.Environment,
                Description = Truncate(_request.Description ?? $"Deploy {What} to {_request.Environment}"),
                Payload = _request.ApplicationCommit is { } application ? new Dictionary<string, string> { [ApplicationCommitKey] = application } : null,
                // The pipeline has already decided; GitHub must neither merge the default branch in nor wait for checks.
                AutoMerge = false,
                RequiredContexts = [],
                ProductionEnvironment = _request.ProductionEnvironment,
                TransientEnvironment = _request.TransientEnvironment,
                Task = "deploy",
            });
            DeploymentId = deployment.Id;
            _logger.Information("GitHub deployment {Id} created for {Environment}: {What}.", deployment.Id, _request.Environment, What);
            await CreateStatus(client, new NewDeploymentStatus(DeploymentState.InProgress)
            {
                Description = Truncate($"Deploying {What} to {_request.Environment}"),
                LogUrl = _request.LogUrl,
            });
        }, cancellationToken);
    }

    public async Task SucceededAsync(string? environmentUrl, IEnumerable<string>? summaryLines, CancellationToken cancellationToken)
    {
        if (!IsActive || DeploymentId is null)
            return;
        var summary = FirstLines(summaryLines);
        await Guarded("mark the deployment successful", client => CreateStatus(client, new NewDeploymentStatus(DeploymentState.Success)
        {
            Description = Truncate($"Deployed {What} to {_request.Environment}" + (summary.Length > 0 ? $": {summary}" : "")),
            EnvironmentUrl = environmentUrl,
            LogUrl = _request.LogUrl,
        }), cancellationToken);
    }

    public async Task FailedAsync(string failingTarget, IEnumerable<string>? summaryLines, CancellationToken cancellationToken)
    {
        if (!IsActive || DeploymentId is null)
            return;
        var summary = FirstLines(summaryLines);
        await Guarded("mark the deployment failed", client => CreateStatus(client, new NewDeploymentStatus(DeploymentState.Failure)
        {
            Description = Truncate($"{failingTarget} failed"
                + (_request.ApplicationCommit is { } application ? $" deploying application {Short(application)}" : "")
                + (summary.Length > 0 ? $": {summary}" : "")),
            LogUrl = _request.LogUrl,
        }), cancellationToken);
    }

    /// <summary>The application commit when known (with this repository's), else this repository's commit.</summary>
    private string What => _request.ApplicationCommit is { } application
        ? $"application {Short(application)} (pipeline {Short(_request.CommitSha)})"
        : Short(_request.CommitSha);

    private Task CreateStatus(IGitHubClient client, NewDeploymentStatus status) =>
        client.Repository.Deployment.Status.Create(_request.Repository.Owner, _request.Repository.Name, DeploymentId!.Value, status);

    private async Task Guarded(string action, Func<IGitHubClient, Task> call, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await call(_client!).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception error) when (error is ApiException or HttpRequestException or OperationCanceledException)
        {
            _disabled = true;
            _logger.Warning("GitHub deployment record: could not {Action:l} in {Repository:l} ({Reason:l}). The deploy itself is not affected; no further deployment updates will be sent.",
                action, _request.Repository, Secrets.Redact(Explain(error)));
        }
    }

    public static string Explain(Exception error) => error switch
    {
        RateLimitExceededException rate => $"rate limit of {rate.Limit} requests reached, resets at {rate.Reset:u}",
        AuthorizationException => "401 Unauthorized: the token is invalid or expired",
        NotFoundException notFound => $"404 Not Found ({notFound.Message}): the repository does not exist or the token cannot see it",
        ForbiddenException forbidden => $"403 Forbidden: {forbidden.Message} (the token needs the deployments permission)",
        ApiValidationException validation => $"422 {validation.Message}",
        ApiException api => $"{(int)api.StatusCode} {api.Message}",
        OperationCanceledException => "the request timed out",
        _ => error.Message,
    };

    private static string FirstLines(IEnumerable<string>? lines) =>
        lines is null ? string.Empty : string.Join(" · ", lines.Select(l => l.Trim()).Where(l => l.Length > 0).Take(3));

    private static string Truncate(string text) =>
        text.Length <= MaxDescriptionLength ? text : text[..(MaxDescriptionLength - 1)] + "…";

    private static string Short(string sha) => sha.Length > 7 ? sha[..7] : sha;
}
