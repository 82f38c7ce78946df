using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Aws;

public sealed record EcrRepository(string Name, string Uri, string Arn, string RegistryId, string? TagMutability);

public sealed record EcrImage(string Repository, string Digest, IReadOnlyList<string> Tags, DateTimeOffset? PushedAt, long? SizeBytes, string? ManifestMediaType);

public sealed record EcrManifest(string Repository, string Digest, string Manifest, string? MediaType);

/// <summary>
/// Docker registry credentials from ECR GetAuthorizationToken. The password is registered as a secret and never printed.
/// </summary>
public sealed record EcrAuthorization(string Registry, string Username, string Password, DateTimeOffset ExpiresAt)
{
    /// <summary>Refresh this long before <see cref="ExpiresAt"/>.</summary>
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    /// <summary>True from five minutes before expiry; an expiry already past (moto says 2015) means "refresh every time".</summary>
    public bool NeedsRefresh(DateTimeOffset now) => now >= ExpiresAt - RefreshMargin;

    /// <summary>The registry host without scheme: <c>123456789012.dkr.ecr.us-east-1.amazonaws.com</c>.</summary>
    public static string RegistryHost(string proxyEndpoint) =>
        Uri.TryCreate(proxyEndpoint, UriKind.Absolute, out var uri) ? uri.Authority : proxyEndpoint.TrimEnd('/');

    /// <summary>Decodes the base64 <c>user:password</c> token.</summary>
    public static EcrAuthorization Parse(string authorizationToken, string proxyEndpoint, DateTimeOffset expiresAt)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorizationToken));
        }
        catch (FormatException e)
        {
            throw new BuildFailure("ECR returned an authorization token that is not base64.", "Rerun; if it persists, check AWS_ENDPOINT_URL_ECR.", e);
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == decoded.Length - 1)
            throw new BuildFailure("ECR returned an authorization token that is not 'user:password'.", "Rerun; if it persists, check AWS_ENDPOINT_URL_ECR.");
        var password = decoded[(colon + 1)..];
        Secrets.RegisterBasicCredentials(decoded[..colon], password);
        Secrets.Register(authorizationToken);
        return new EcrAuthorization(RegistryHost(proxyEndpoint), decoded[..colon], password, expiresAt);
    }

    /// <summary>The Basic credential a registry client sends (<c>base64(user:password)</c>).</summary>
    public string BasicCredential
    {
        get
        {
            var value = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"));
            Secrets.Register(value);
            return value;
        }
    }

    public override string ToString() => $"EcrAuthorization {{ Registry = {Registry}, Username = {Username}, Password = {SecretRegistry.Mask}, ExpiresAt = {ExpiresAt:O} }}";
}

/// <summary>The few ECR calls the pipeline needs, over AWS JSON 1.1.</summary>
public sealed class EcrClient
{
    private const string TargetPrefix = "AmazonEC2ContainerRegistry_V20150921.";
    private readonly AwsHttpTransport _transport;

    internal EcrClient(AwsHttpTransport transport) => _transport = transport;

    public async Task<EcrAuthorization> GetAuthorizationTokenAsync(CancellationToken cancellationToken, string? registryId = null)
    {
        var body = registryId is null ? new JsonObject() : new JsonObject { ["registryIds"] = new JsonArray(registryId) };
        var result = await CallAsync("GetAuthorizationToken", body, cancellationToken);
        var data = result.GetProperty("authorizationData").EnumerateArray().FirstOrDefault();
        if (data.ValueKind != JsonValueKind.Object)
            throw new BuildFailure("ECR GetAuthorizationToken returned no authorization data.", "Check the account and region of the registry.");
        var token = data.GetProperty("authorizationToken").GetString()!;
        Secrets.Register(token);
        return EcrAuthorization.Parse(token, data.GetProperty("proxyEndpoint").GetString()!, ReadTime(data, "expiresAt") ?? DateTimeOffset.MinValue);
    }

    public async Task<IReadOnlyList<EcrRepository>> DescribeRepositoriesAsync(IEnumerable<string> names, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["repositoryNames"] = new JsonArray([.. names.Select(n => (JsonNode)n)]) };
        var result = await CallAsync("DescribeRepositories", body, cancellationToken);
        return [.. result.GetProperty("repositories").EnumerateArray().Select(r => new EcrRepository(
            r.GetProperty("repositoryName").GetString()!,
            r.GetProperty("repositoryUri").GetString()!,
            r.GetProperty("repositoryArn").GetString()!,
            r.GetProperty("registryId").GetString()!,
            r.TryGetProperty("imageTagMutability", out var m) ? m.GetString() : null))];
    }

    /// <summary>One image by tag or digest (<c>sha256:…</c>); <see cref="ImageNotFoundException"/> if absent.</summary>
    public async Task<EcrImage> DescribeImageAsync(string repository, string tagOrDigest, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["repositoryName"] = repository, ["imageIds"] = new JsonArray(ImageId(tagOrDigest)) };
        var result = await CallAsync("DescribeImages", body, cancellationToken);
        var detail = result.GetProperty("imageDetails").EnumerateArray().First();
        return new EcrImage(repository,
            detail.GetProperty("imageDigest").GetString()!,
            detail.TryGetProperty("imageTags", out var tags) ? [.. tags.EnumerateArray().Select(t => t.GetString()!)] : [],
            ReadTime(detail, "imagePushedAt"),
            detail.TryGetProperty("imageSizeInBytes", out var size) && size.TryGetInt64(out var bytes) ? bytes : null,
            detail.TryGetProperty("imageManifestMediaType", out var media) ? media.GetString() : null);
    }

    /// <summary>Like <see cref="DescribeImageAsync"/>, but null when the image (not the repository) is missing.</summary>
    public async Task<EcrImage?> FindImageAsync(string repository, string tagOrDigest, CancellationToken cancellationToken)
    {
        try
        {
            return await DescribeImageAsync(repository, tagOrDigest, cancellationToken);
        }
        catch (ImageNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The manifest of one image, e.g. to put it again under another tag.</summary>
    public async Task<EcrManifest> BatchGetImageAsync(string repository, string tagOrDigest, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["repositoryName"] = repository, ["imageIds"] = new JsonArray(ImageId(tagOrDigest)) };
        var result = await CallAsync("BatchGetImage", body, cancellationToken);
        var image = result.GetProperty("images").EnumerateArray().FirstOrDefault();
        if (image.ValueKind != JsonValueKind.Object)
        {
            var failure = result.TryGetProperty("failures", out var f) ? f.EnumerateArray().FirstOrDefault() : default;
            var reason = failure.ValueKind == JsonValueKind.Object && failure.TryGetProperty("failureReason", out var r) ? r.GetString() : "not found";
            throw new ImageNotFoundException(
                new AwsError(AwsService.Ecr, "BatchGetImage", System.Net.HttpStatusCode.OK, "ImageNotFoundException", reason ?? "not found"),
                $"ECR image {repository}:{tagOrDigest} not found: {reason}", "Build and push the image first, or check the tag/digest.");
        }
        return new EcrManifest(repository,
            image.GetProperty("imageId").GetProperty("imageDigest").GetString()!,
            image.GetProperty("imageManifest").GetString()!,
            image.TryGetProperty("imageManifestMediaType", out var media) ? media.GetString() : null);
    }

    /// <summary>Tags an existing manifest (ECR's way to retag without pulling).</summary>
    public async Task PutImageAsync(string repository, string manifest, string tag, string? mediaType, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["repositoryName"] = repository, ["imageManifest"] = manifest, ["imageTag"] = tag };
        if (mediaType is not null)
            body["imageManifestMediaType"] = mediaType;
        try
        {
            await CallAsync("PutImage", body, cancellationToken);
        }
        catch (AwsServiceException e) when (e.Code == "ImageAlreadyExistsException")
        {
            // The tag already points at this manifest: nothing to do.
        }
    }

    private static JsonObject ImageId(string tagOrDigest) =>
        tagOrDigest.StartsWith("sha256:", StringComparison.Ordinal) ? new JsonObject { ["imageDigest"] = tagOrDigest } : new JsonObject { ["imageTag"] = tagOrDigest };

    private Task<JsonElement> CallAsync(string operation, JsonObject body, CancellationToken cancellationToken) =>
        _transport.SendAsync(new AwsCall(AwsService.Ecr, operation, HttpMethod.Post, "/", TargetPrefix + operation, body.ToJsonString()), cancellationToken);

    /// <summary>AWS JSON timestamps are epoch seconds (a number); be lenient with ISO strings too.</summary>
    internal static DateTimeOffset? ReadTime(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
            return null;
        if (value.ValueKind == JsonValueKind.Number)
            return DateTimeOffset.FromUnixTimeMilliseconds((long)(value.GetDouble() * 1000));
        return value.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(value.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
    }
}
