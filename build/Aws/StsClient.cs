using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Aws;

/// <summary>Who the credentials belong to, from STS GetCallerIdentity.</summary>
public sealed record CallerIdentity(string Account, string Arn, string UserId)
{
    /// <summary>The readable name: the user name, or the role session name for an assumed role.</summary>
    public string Name => Arn.Split('/').Last();

    /// <summary>
    /// Whether these credentials already are a session of <paramref name="roleArn"/> (a CI job that assumed it through
    /// OIDC): <c>arn:aws:sts::A:assumed-role/NAME/session</c> for <c>arn:aws:iam::A:role/[path/]NAME</c>.
    /// </summary>
    public bool IsSessionOf(string roleArn)
    {
        var caller = Arn.Split(':', 6);
        var role = roleArn.Split(':', 6);
        if (caller.Length < 6 || role.Length < 6 || caller[4] != role[4] || caller[5].Split('/') is not ["assumed-role", var name, _])
            return false;
        return role[5].StartsWith("role/", StringComparison.Ordinal) && role[5].Split('/').Last() == name;
    }
}

/// <summary>A role assumed through STS, with self-refreshing credentials for the rest of the run.</summary>
public sealed record AssumedRole(string RoleArn, string SessionName, string AssumedRoleArn, AWSCredentials Credentials, DateTimeOffset Expiration);

/// <summary>STS through AWSSDK.SecurityToken (served here): identity and AssumeRole.</summary>
public sealed class StsClient : IDisposable
{
    private readonly AmazonSecurityTokenServiceClient _client;
    private readonly Uri _endpoint;
    private readonly AwsOptions _options;

    internal StsClient(AWSCredentials credentials, string region, AwsEndpoints endpoints, AwsOptions options)
    {
        _endpoint = endpoints[AwsService.Sts];
        _options = options;
        _client = new AmazonSecurityTokenServiceClient(credentials, new AmazonSecurityTokenServiceConfig
        {
            ServiceURL = _endpoint.ToString(),
            AuthenticationRegion = region,
            Timeout = options.CallTimeout,
            MaxErrorRetry = Math.Max(0, options.MaxAttempts - 1),
        });
    }

    public async Task<CallerIdentity> GetCallerIdentityAsync(CancellationToken cancellationToken)
    {
        var response = await CallAsync("GetCallerIdentity", token => _client.GetCallerIdentityAsync(new GetCallerIdentityRequest(), token), cancellationToken);
        return new CallerIdentity(response.Account, response.Arn, response.UserId);
    }

    /// <summary>Assumes <paramref name="roleArn"/>; the returned credentials renew themselves five minutes before expiry.</summary>
    public async Task<AssumedRole> AssumeRoleAsync(string roleArn, string sessionName, CancellationToken cancellationToken, TimeSpan? duration = null)
    {
        var seconds = (int)(duration ?? TimeSpan.FromHours(1)).TotalSeconds;
        var response = await AssumeOnceAsync(roleArn, sessionName, seconds, cancellationToken);
        var credentials = new AssumedRoleCredentials(this, roleArn, sessionName, seconds, response.Credentials);
        return new AssumedRole(roleArn, sessionName, response.AssumedRoleUser.Arn, credentials, response.Credentials.Expiration?.ToUniversalTime() ?? DateTime.UtcNow.AddSeconds(seconds));
    }

    internal async Task<AssumeRoleResponse> AssumeOnceAsync(string roleArn, string sessionName, int seconds, CancellationToken cancellationToken)
    {
        var response = await CallAsync("AssumeRole", token => _client.AssumeRoleAsync(new AssumeRoleRequest
        {
            RoleArn = roleArn,
            RoleSessionName = sessionName,
            DurationSeconds = seconds,
        }, token), cancellationToken, subject: $"Assuming role {roleArn}");
        Secrets.Register(response.Credentials.SecretAccessKey);
        Secrets.Register(response.Credentials.SessionToken);
        return response;
    }

    private async Task<T> CallAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken, string? subject = null)
    {
        // The SDK times out each attempt itself; this outer deadline guarantees no call outlives all of its attempts.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.CallTimeout * Math.Max(1, _options.MaxAttempts) + TimeSpan.FromSeconds(5));
        try
        {
            return await call(deadline.Token);
        }
        catch (AmazonServiceException e) when (e.StatusCode != 0 && !string.IsNullOrEmpty(e.ErrorCode))
        {
            throw AwsServiceException.From(new AwsError(AwsService.Sts, operation, e.StatusCode, e.ErrorCode, e.Message, e.RequestId), subject, e, _options.Choices);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsTimeout(e))
        {
            throw new AwsEndpointTimeoutException(AwsService.Sts, operation, _endpoint, _options.CallTimeout);
        }
        catch (Exception e) when (Unwrap<HttpRequestException>(e) is { } http)
        {
            throw new AwsEndpointUnreachableException(AwsService.Sts, operation, _endpoint, http);
        }
        catch (Exception e) when (e is AmazonClientException or InvalidOperationException && AwsCredentialChain.IsSsoFailure(e))
        {
            throw AwsCredentialChain.SsoExpired(null, e);
        }
    }

    private static bool IsTimeout(Exception e) =>
        e is OperationCanceledException or TimeoutException || Unwrap<TimeoutException>(e) is not null || Unwrap<OperationCanceledException>(e) is not null;

    private static T? Unwrap<T>(Exception e) where T : Exception
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is T match)
                return match;
        }
        return null;
    }

    public void Dispose() => _client.Dispose();

    /// <summary>Role credentials that call AssumeRole again before they expire.</summary>
    private sealed class AssumedRoleCredentials : RefreshingAWSCredentials
    {
        private readonly StsClient _sts;
        private readonly string _roleArn;
        private readonly string _sessionName;
        private readonly int _seconds;
        private Credentials? _initial;

        public AssumedRoleCredentials(StsClient sts, string roleArn, string sessionName, int seconds, Credentials initial)
        {
            _sts = sts;
            _roleArn = roleArn;
            _sessionName = sessionName;
            _seconds = seconds;
            _initial = initial;
            PreemptExpiryTime = TimeSpan.FromMinutes(5);
        }

        protected override CredentialsRefreshState GenerateNewCredentials() => GenerateNewCredentialsAsync().GetAwaiter().GetResult();

        protected override async Task<CredentialsRefreshState> GenerateNewCredentialsAsync()
        {
            var credentials = Interlocked.Exchange(ref _initial, null)
                ?? (await _sts.AssumeOnceAsync(_roleArn, _sessionName, _seconds, CancellationToken.None)).Credentials;
            return new CredentialsRefreshState(
                new ImmutableCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, credentials.SessionToken),
                credentials.Expiration?.ToUniversalTime() ?? DateTime.UtcNow.AddSeconds(_seconds));
        }
    }
}

/// <summary>STS role session names: who and when, within AWS's 64-character <c>[\w+=,.@-]</c> alphabet.</summary>
public static class RoleSessionName
{
    public static string Create(string who, DateTimeOffset when)
    {
        var safe = new StringBuilder();
        foreach (var c in who)
            safe.Append(char.IsAsciiLetterOrDigit(c) || "_+=,.@-".Contains(c) ? c : '-');
        var stamp = when.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var name = safe.ToString().Trim('-');
        if (name.Length == 0)
            name = "unknown";
        var maxWho = 64 - stamp.Length - 1;
        return $"{(name.Length > maxWho ? name[..maxWho] : name)}-{stamp}";
    }

    /// <summary>The person or CI actor running the build: GITHUB_ACTOR in Actions, else the OS user.</summary>
    public static string CurrentActor(AwsEnvironment environment) =>
        environment.Get("GITHUB_ACTOR") is { } actor ? "gh-" + actor : System.Environment.UserName;
}
