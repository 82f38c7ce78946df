using System.Text.Json.Nodes;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Aws;

public sealed record SecretDescription(string Name, string Arn);

/// <summary>Secrets Manager over AWS JSON 1.1: read a secret's text; describe it for preflight; create it or store a new version.</summary>
public sealed class SecretsManagerClient
{
    private readonly AwsHttpTransport _transport;

    internal SecretsManagerClient(AwsHttpTransport transport) => _transport = transport;

    /// <summary>The secret's text (SecretString), registered as a secret before it is returned.</summary>
    public async Task<string> GetSecretStringAsync(string secretId, CancellationToken cancellationToken)
    {
        var result = await CallAsync("GetSecretValue", secretId, cancellationToken);
        if (!result.TryGetProperty("SecretString", out var text) || text.GetString() is not { } value)
            throw new BuildFailure($"Secrets Manager secret '{secretId}' holds binary data, not text.", "Store the value as SecretString (e.g. 'aws secretsmanager put-secret-value --secret-string file://...').");
        Secrets.Register(value);
        return value;
    }

    /// <summary>Cheap existence and access check: metadata only, no secret value.</summary>
    public async Task<SecretDescription> DescribeSecretAsync(string secretId, CancellationToken cancellationToken)
    {
        var result = await CallAsync("DescribeSecret", secretId, cancellationToken);
        return new SecretDescription(result.GetProperty("Name").GetString()!, result.GetProperty("ARN").GetString()!);
    }

    /// <summary>Describe, or null when the secret does not exist (other errors still throw).</summary>
    public async Task<SecretDescription?> TryDescribeSecretAsync(string secretId, CancellationToken cancellationToken)
    {
        try
        {
            return await DescribeSecretAsync(secretId, cancellationToken);
        }
        catch (ResourceNotFoundException)
        {
            return null;
        }
    }

    /// <summary>A new version of an existing secret's text; the text is registered as a secret first.</summary>
    public async Task PutSecretValueAsync(string secretId, string secretString, CancellationToken cancellationToken)
    {
        Secrets.Register(secretString);
        await CallAsync("PutSecretValue", secretId, cancellationToken, new JsonObject { ["SecretString"] = secretString });
    }

    /// <summary>Creates the secret with its first text; the text is registered as a secret first.</summary>
    public async Task<SecretDescription> CreateSecretAsync(string name, string description, string secretString, CancellationToken cancellationToken)
    {
        Secrets.Register(secretString);
        var result = await _transport.SendAsync(new AwsCall(AwsService.SecretsManager, "CreateSecret", HttpMethod.Post, "/", "secretsmanager.CreateSecret",
            new JsonObject { ["Name"] = name, ["Description"] = description, ["SecretString"] = secretString, ["ClientRequestToken"] = Guid.NewGuid().ToString() }.ToJsonString()), cancellationToken);
        return new SecretDescription(result.GetProperty("Name").GetString()!, result.GetProperty("ARN").GetString()!);
    }

    private async Task<System.Text.Json.JsonElement> CallAsync(string operation, string secretId, CancellationToken cancellationToken, JsonObject? extra = null)
    {
        var body = new JsonObject { ["SecretId"] = secretId };
        foreach (var (key, value) in extra ?? [])
            body[key] = value?.DeepClone();
        try
        {
            return await _transport.SendAsync(new AwsCall(AwsService.SecretsManager, operation, HttpMethod.Post, "/", "secretsmanager." + operation,
                body.ToJsonString()), cancellationToken);
        }
        catch (ResourceNotFoundException e)
        {
            throw new ResourceNotFoundException(e.Error, $"Secrets Manager secret '{secretId}' does not exist ({e.Error.Message}).",
                "Check the secret id, the account and the region; upload it first if this environment is new.");
        }
    }
}
