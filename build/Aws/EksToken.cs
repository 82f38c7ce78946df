using System.Net.Http.Headers;
using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using k8s.Authentication;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Aws;

/// <summary>An EKS bearer token and when it was signed. EKS accepts it for 15 minutes after signing.</summary>
public sealed record EksToken(string Value, DateTimeOffset SignedAt)
{
    public const string Prefix = "k8s-aws-v1.";

    /// <summary>Tokens are replaced well before EKS stops accepting them (15 min), so a slow call never carries a dying one.</summary>
    public static readonly TimeSpan UsableFor = TimeSpan.FromMinutes(10);

    /// <summary>What <c>aws eks get-token</c> reports as expirationTimestamp.</summary>
    public DateTimeOffset ExpiresAt => SignedAt + TimeSpan.FromMinutes(14);

    public bool IsFresh(DateTimeOffset now) => now >= SignedAt && now < SignedAt + UsableFor;

    public override string ToString() => $"EksToken {{ SignedAt = {SignedAt:O}, Value = {SecretRegistry.Mask} }}";

    /// <summary>The presigned STS URL inside a token (for tests and diagnosis).</summary>
    public static Uri Decode(string token)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal))
            throw new FormatException($"An EKS token starts with '{Prefix}'.");
        var body = token[Prefix.Length..].Replace('-', '+').Replace('_', '/');
        body = body.PadRight(body.Length + (4 - body.Length % 4) % 4, '=');
        return new Uri(Encoding.UTF8.GetString(Convert.FromBase64String(body)));
    }
}

/// <summary>
/// Makes EKS bearer tokens exactly like <c>aws eks get-token</c>: a presigned STS GetCallerIdentity GET, signed with header
/// <c>x-k8s-aws-id: &lt;cluster&gt;</c> and a 60 s X-Amz-Expires, base64url-encoded without padding after <c>k8s-aws-v1.</c>.
/// Also a KubernetesClient token provider that renews the token before it ages out.
/// </summary>
public sealed class EksTokenSource : ITokenProvider
{
    private readonly AWSCredentials _credentials;
    private readonly RegionEndpoint _region;
    private readonly Uri _stsEndpoint;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private EksToken? _current;

    public EksTokenSource(AWSCredentials credentials, string region, Uri stsEndpoint, string clusterName, TimeProvider time)
    {
        _credentials = credentials;
        _region = RegionEndpoint.GetBySystemName(region);
        _stsEndpoint = stsEndpoint;
        _time = time;
        ClusterName = clusterName;
    }

    public string ClusterName { get; }

    /// <summary>The current token, signed afresh when the last one is older than <see cref="EksToken.UsableFor"/>.</summary>
    public async Task<EksToken> GetTokenAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_current is { } token && token.IsFresh(now))
            return token;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            now = _time.GetUtcNow();
            if (_current is { } again && again.IsFresh(now))
                return again;
            return _current = await CreateAsync(now, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    async Task<AuthenticationHeaderValue> ITokenProvider.GetAuthenticationHeaderAsync(CancellationToken cancellationToken) =>
        new("Bearer", (await GetTokenAsync(cancellationToken)).Value);

    private async Task<EksToken> CreateAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var request = new AWSSigningRequest
        {
            HttpMethod = HttpMethod.Get,
            RequestUri = new Uri(_stsEndpoint, "?Action=GetCallerIdentity&Version=2011-06-15"),
        };
        request.Headers["x-k8s-aws-id"] = ClusterName;
        var presigned = await AWSSigV4Signer.PresignAsync(request, new AWSSigV4Parameters
        {
            Credentials = _credentials,
            Region = _region,
            Service = "sts",
            SignedAt = now.UtcDateTime,
        }, TimeSpan.FromSeconds(60), cancellationToken);
        var value = EksToken.Prefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(presigned.Uri.AbsoluteUri)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Secrets.Register(value);
        return new EksToken(value, now);
    }
}
