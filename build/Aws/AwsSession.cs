using Amazon.Runtime;
using Serilog;

namespace Tesslate.Build.Aws;

/// <summary>
/// One set of AWS credentials in one region with its endpoints: the entry point of the adapter.
/// <see cref="ConnectAsync"/> resolves credentials and region like the AWS CLI; <see cref="WithRole"/> gives a session that
/// signs as an assumed role (the cluster role), while the original keeps the caller's identity (the registry credentials).
/// </summary>
public sealed class AwsSession : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ILogger _logger;
    private readonly AwsHttpTransport _transport;

    private AwsSession(AWSCredentials credentials, string credentialSource, string? profile, string region, string regionSource,
        AwsOptions options, AwsEnvironment environment, ILogger logger, HttpClient? http)
    {
        Credentials = credentials;
        CredentialSource = credentialSource;
        Profile = profile;
        Region = region;
        RegionSource = regionSource;
        Options = options;
        Environment = environment;
        Endpoints = AwsEndpoints.Resolve(region, environment);
        _logger = logger;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        _transport = new AwsHttpTransport(_http, credentials, region, Endpoints, options, logger);
        Sts = new StsClient(credentials, region, Endpoints, options);
        Ecr = new EcrClient(_transport);
        Eks = new EksClient(_transport, region, options.Choices);
        SecretsManager = new SecretsManagerClient(_transport);
    }

    public AWSCredentials Credentials { get; }

    /// <summary>Where the credentials came from, for Whoami and error messages: "profile 'x' (--aws-profile)" (the caller's way of choosing it), "environment variables", …</summary>
    public string CredentialSource { get; }

    public string? Profile { get; }

    public string Region { get; }

    public string RegionSource { get; }

    public AwsOptions Options { get; }

    public AwsEnvironment Environment { get; }

    public AwsEndpoints Endpoints { get; }

    public StsClient Sts { get; }

    public EcrClient Ecr { get; }

    public EksClient Eks { get; }

    public SecretsManagerClient SecretsManager { get; }

    /// <summary>Resolves credentials (profile, SSO, env, web identity) and region; fails with a login fix when there are none.</summary>
    public static async Task<AwsSession> ConnectAsync(AwsOptions options, ILogger logger, CancellationToken cancellationToken, AwsEnvironment? environment = null)
    {
        environment ??= AwsEnvironment.Process;
        var profile = string.IsNullOrWhiteSpace(options.Profile) ? null : options.Profile.Trim();
        var resolved = await AwsCredentialChain.ResolveAsync(profile, environment, cancellationToken, options.Choices);
        var (region, regionSource) = options is { Region: { } given, RegionSource: { } source }
            ? (given, source)
            : AwsRegion.Resolve(options.Region, environment, resolved.ProfileRegion, explicitSource: options.Choices.Region);
        logger.Debug("AWS credentials from {Source}, region {Region} ({RegionSource})", resolved.Source, region, regionSource);
        return new AwsSession(resolved.Credentials, resolved.Source, resolved.Profile, region, regionSource, options, environment, logger, null);
    }

    /// <summary>A session with credentials already in hand (tests, or keys obtained elsewhere).</summary>
    public static AwsSession FromCredentials(AWSCredentials credentials, string source, AwsOptions options, ILogger logger, AwsEnvironment? environment = null)
    {
        environment ??= AwsEnvironment.Process;
        var (region, regionSource) = AwsRegion.Resolve(options.Region, environment, null, explicitSource: options.Choices.Region);
        var keys = credentials.GetCredentials();
        Engine.Secrets.Register(keys.SecretKey);
        Engine.Secrets.Register(keys.Token);
        return new AwsSession(credentials, source, options.Profile, region, regionSource, options, environment, logger, null);
    }

    /// <summary>The same region and endpoints, signing as the assumed role.</summary>
    public AwsSession WithRole(AssumedRole role) =>
        new(role.Credentials, $"role {role.RoleArn} (session {role.SessionName})", Profile, Region, RegionSource, Options, Environment, _logger, _http);

    /// <summary>EKS bearer tokens for <paramref name="clusterName"/>, signed by this session's credentials.</summary>
    public EksTokenSource EksTokens(string clusterName, TimeProvider? time = null) =>
        new(Credentials, Region, Endpoints[AwsService.Sts], clusterName, time ?? TimeProvider.System);

    public void Dispose()
    {
        Sts.Dispose();
        if (_ownsHttp)
            _http.Dispose();
    }
}
