using Octokit;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.GitHub;

/// <summary>What to record: which commit goes to which environment of which repository.</summary>
public sealed record DeploymentRequest(GitHubRepository Repository, string Environment, string CommitSha)
{
    public string? Description { get; init; }

    /// <summary>GitHub treats production deployments specially (never marked inactive by later ones).</summary>
    public bool ProductionEnvironment { get; init; }

    public bool TransientEnvironment { get; init; }

    /// <summary>Where the run's log is, e.g. the Actions run URL.</summary>
    public string? LogUrl { get; init; }
}

/// <summary>
/// Records a deploy as a GitHub Deployment so GitHub shows what is deployed where: <c>in_progress</c> at start, then
/// <c>success</c> with the environment URL or <c>failure</c> with the failing target and the summary's first lines.
/// Inside Actions the job's <c>environment:</c> has already created the deployment, so the recorder finds it (latest
/// for the commit and environment) and adds statuses instead of creating a second one.
/// A deployment record is a side note of the deploy: every GitHub error is reported once, as a warning, and then the
/// recorder stays quiet; it never throws (except on cancellation).
/// </summary>
public sealed class DeploymentRecorder
{
    /// <summary>GitHub truncates nothing for us: a longer description is rejected.</summary>
    public const int MaxDescriptionLength = 140;

    private readonly IGitHubClient? _client;
    private readonly DeploymentRequest _request;
    private readonly bool _reuseActionsDeployment;
    private readonly ILogger _logger;
    private bool _disabled;

    public DeploymentRecorder(IGitHubClient? client, DeploymentRequest request, bool reuseActionsDeployment, ILogger logger)
    {
        _client = client;
        _request = request;
        _reuseActionsDeployment = reuseActionsDeployment;
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
    public static DeploymentRecorder Create(GitHubToken? token, Uri apiUrl, DeploymentRequest request, bool insideActions, ILogger logger)
    {
        if (token is null)
        {
            logger.Information("GitHub deployment record skipped: no token (pass --github-token, set GITHUB_TOKEN, or log in with 'gh auth login').");
            return new DeploymentRecorder(null, request, insideActions, logger);
        }
        Secrets.Register(token.Value);
        var connection = new Connection(new ProductHeaderValue("Tesslate.Build"), ApiBase(apiUrl)) { Credentials = new Credentials(token.Value) };
        var client = new GitHubClient(connection);
        client.SetRequestTimeout(TimeSpan.FromSeconds(30));
        return new DeploymentRecorder(client, request, insideActions, logger);
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

    /// <summary>Creates the deployment (or finds the job's, inside Actions) and marks it in progress.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!IsActive)
            return;
        await Guarded("create the deployment", async client =>
        {
            var (owner, name) = (_request.Repository.Owner, _request.Repository.Name);
            if (_reuseActionsDeployment && await FindJobDeploymentAsync(client) is { } existing)
            {
                DeploymentId = existing.Id;
                _logger.Information("GitHub deployment {Id} of this job found for {Environment} at {Sha}.", existing.Id, _request.Environment, Short(_request.CommitSha));
            }
            else
            {
                var deployment = await client.Repository.Deployment.Create(owner, name, new NewDeployment(_request.CommitSha)
                {
                    Environment = _request.Environment,
                    Description = Truncate(_request.Description ?? $"Deploy {Short(_request.CommitSha)} to {_request.Environment}"),
                    // The pipeline has already decided; GitHub must neither merge the default branch in nor wait for checks.
                    AutoMerge = false,
                    RequiredContexts = [],
                    ProductionEnvironment = _request.ProductionEnvironment,
                    TransientEnvironment = _request.TransientEnvironment,
                    Task = "deploy",
                });
                DeploymentId = deployment.Id;
                _logger.Information("GitHub deployment {Id} created for {Environment} at {Sha}.", deployment.Id, _request.Environment, Short(_request.CommitSha));
            }
            await CreateStatus(client, new NewDeploymentStatus(DeploymentState.InProgress)
            {
                Description = Truncate($"Deploying {Short(_request.CommitSha)} to {_request.Environment}"),
                LogUrl = _request.LogUrl,
            });
        }, cancellationToken);
    }

    public async Task SucceededAsync(string? environmentUrl, IEnumerable<string>? summaryLines, CancellationToken cancellationToken)
    {
        if (!IsActive || DeploymentId is null)
            return;
        var description = FirstLines(summaryLines) is { Length: > 0 } summary ? summary : $"Deployed {Short(_request.CommitSha)} to {_request.Environment}";
        await Guarded("mark the deployment successful", client => CreateStatus(client, new NewDeploymentStatus(DeploymentState.Success)
        {
            Description = Truncate(description),
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
            Description = Truncate(summary.Length > 0 ? $"{failingTarget} failed: {summary}" : $"{failingTarget} failed"),
            LogUrl = _request.LogUrl,
        }), cancellationToken);
    }

    // The API returns the newest first; GitHub created the job's deployment for this commit and environment.
    private async Task<Deployment?> FindJobDeploymentAsync(IGitHubClient client)
    {
        var api = new ApiConnection(client.Connection);
        var deployments = await api.Get<List<Deployment>>(
            new Uri($"repos/{Uri.EscapeDataString(_request.Repository.Owner)}/{Uri.EscapeDataString(_request.Repository.Name)}/deployments", UriKind.Relative),
            new Dictionary<string, string> { ["sha"] = _request.CommitSha, ["environment"] = _request.Environment, ["per_page"] = "1" });
        return deployments.FirstOrDefault();
    }

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
