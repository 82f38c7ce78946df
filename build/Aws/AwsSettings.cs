using System.Collections.Immutable;

namespace Tesslate.Build.Aws;

/// <summary>What the user chose (the pipeline: <c>--aws-profile</c>, <c>--aws-region</c>), how they choose it, and how patient to be.</summary>
public sealed record AwsOptions
{
    public string? Profile { get; init; }

    public string? Region { get; init; }

    /// <summary>Where <see cref="Region"/> came from when the caller resolved it (Whoami shows it); null: <see cref="AwsChoices.Region"/>.</summary>
    public string? RegionSource { get; init; }

    /// <summary>How the caller's user chooses a profile, a region and a role, for the fixes.</summary>
    public AwsChoices Choices { get; init; } = AwsChoices.None;

    /// <summary>How long one HTTP attempt may take before the endpoint is reported as not answering.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Attempts per call, including the first; transient failures (throttling, 5xx, timeouts) are retried.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>First retry delay; later ones grow exponentially with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(400);
}

/// <summary>
/// How the caller's user chooses a profile, a region and a role (the pipeline: its flags), for the fixes and as the
/// source of an explicit choice; a null part leaves only the AWS variables in the fixes.
/// </summary>
public sealed record AwsChoices(string? Profile = null, string? Region = null, string? Role = null)
{
    public static AwsChoices None { get; } = new();

    /// <summary>The caller's way, then the AWS variable ("--aws-region / AWS_REGION"), or the variable alone.</summary>
    public static string Or(string? choice, string variable) => choice is null ? variable : $"{choice} / {variable}";

    /// <summary>Where an explicit profile or region came from, for messages and Whoami.</summary>
    public static string ExplicitSource(string? choice) => choice ?? "chosen";
}

/// <summary>
/// The environment variables the adapter reads, as a value: tests hand in their own, the pipeline reads the process's.
/// </summary>
public sealed class AwsEnvironment
{
    private readonly Func<string, string?> _lookup;

    private AwsEnvironment(Func<string, string?> lookup) => _lookup = lookup;

    public static AwsEnvironment Process { get; } = new(System.Environment.GetEnvironmentVariable);

    public static AwsEnvironment From(IReadOnlyDictionary<string, string?> variables) =>
        new(name => variables.TryGetValue(name, out var value) ? value : null);

    /// <summary>The process's variables with some replaced (a null value hides the variable).</summary>
    public static AwsEnvironment ProcessWith(IReadOnlyDictionary<string, string?> overrides) =>
        new(name => overrides.TryGetValue(name, out var value) ? value : System.Environment.GetEnvironmentVariable(name));

    public string? Get(string name) => _lookup(name) is { Length: > 0 } value ? value.Trim() : null;
}

/// <summary>The AWS services the adapter calls, with their standard endpoint-variable suffix and signing name.</summary>
public sealed record AwsService(string Name, string EndpointVariableSuffix, string SigningName, string HostPrefix)
{
    public static AwsService Sts { get; } = new("STS", "STS", "sts", "sts");
    public static AwsService Ecr { get; } = new("ECR", "ECR", "ecr", "api.ecr");
    public static AwsService Eks { get; } = new("EKS", "EKS", "eks", "eks");
    public static AwsService SecretsManager { get; } = new("Secrets Manager", "SECRETS_MANAGER", "secretsmanager", "secretsmanager");

    public static ImmutableArray<AwsService> All { get; } = [Sts, Ecr, Eks, SecretsManager];

    public override string ToString() => Name;
}

/// <summary>
/// Where each service is reached: <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c>, then <c>AWS_ENDPOINT_URL</c>, then the
/// public regional endpoint, as the AWS CLI and SDKs do. Tests point every service at one emulator this way.
/// </summary>
public sealed class AwsEndpoints
{
    private readonly ImmutableDictionary<AwsService, Uri> _endpoints;

    private AwsEndpoints(ImmutableDictionary<AwsService, Uri> endpoints) => _endpoints = endpoints;

    public Uri this[AwsService service] => _endpoints[service];

    /// <summary>True when any endpoint comes from a variable (an emulator or a private endpoint).</summary>
    public bool IsOverridden { get; private init; }

    public static AwsEndpoints Resolve(string region, AwsEnvironment environment)
    {
        var builder = ImmutableDictionary.CreateBuilder<AwsService, Uri>();
        var overridden = false;
        var global = environment.Get("AWS_ENDPOINT_URL");
        foreach (var service in AwsService.All)
        {
            var variable = "AWS_ENDPOINT_URL_" + service.EndpointVariableSuffix;
            var configured = environment.Get(variable) ?? global;
            if (configured is not null)
            {
                overridden = true;
                builder[service] = Parse(configured, configured == global ? "AWS_ENDPOINT_URL" : variable);
            }
            else
            {
                builder[service] = new Uri($"https://{service.HostPrefix}.{region}.amazonaws.com/");
            }
        }
        return new AwsEndpoints(builder.ToImmutable()) { IsOverridden = overridden };
    }

    private static Uri Parse(string value, string variable) =>
        Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new Engine.UsageException($"{variable}='{value}' is not an http(s) URL.", $"Set {variable} to an endpoint such as http://127.0.0.1:5000, or unset it.");
}

/// <summary>
/// Region precedence: the explicit choice (the pipeline's <c>--aws-region</c>), AWS_REGION, AWS_DEFAULT_REGION, the profile's region, then a default
/// (us-east-1 unless the caller knows better).
/// </summary>
public static class AwsRegion
{
    public const string Fallback = "us-east-1";

    /// <param name="explicitSource">How the caller's user gave <paramref name="explicitRegion"/>, reported as its source.</param>
    public static (string Region, string Source) Resolve(string? explicitRegion, AwsEnvironment environment, string? profileRegion,
        (string Region, string Source)? fallback = null, string? explicitSource = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitRegion))
        {
            var source = AwsChoices.ExplicitSource(explicitSource);
            return (Validate(explicitRegion.Trim(), source), source);
        }
        if (environment.Get("AWS_REGION") is { } region)
            return (Validate(region, "AWS_REGION"), "AWS_REGION");
        if (environment.Get("AWS_DEFAULT_REGION") is { } defaultRegion)
            return (Validate(defaultRegion, "AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION");
        if (!string.IsNullOrWhiteSpace(profileRegion))
            return (profileRegion, "profile");
        return fallback ?? (Fallback, "default");
    }

    private static string Validate(string region, string source) =>
        region.Length is > 0 and < 40 && region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            ? region
            : throw new Engine.UsageException($"{source}='{region}' is not an AWS region name.", "Use a region such as us-east-1.");
}
