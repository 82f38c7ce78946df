using System.Text.Json;

namespace Tesslate.Build.Terraform;

/// <summary>One field of the loaded backend that is not what the environment expects.</summary>
public sealed record BackendDifference(string Field, string Expected, string? Actual)
{
    public override string ToString() => $"{Field}: loaded '{Actual ?? "(none)"}', expected '{Expected}'";
}

/// <summary>What <c>.terraform/terraform.tfstate</c> says the working directory is initialised against.</summary>
public sealed record LoadedBackend(string? Type, string? Bucket, string? Key, string? Region);

/// <summary>
/// Whether the stack folder is initialised against the expected backend. Compares the whole location of the state
/// (type, bucket, key, region), not only the key: a same-named key in another bucket is another environment's state.
/// </summary>
public sealed record BackendDrift(bool Initialized, IReadOnlyList<BackendDifference> Differences)
{
    public bool NeedsInit => !Initialized || Differences.Count > 0;

    public string Describe() => !Initialized
        ? "no backend is initialised in this folder"
        : Differences.Count == 0 ? "backend matches" : "backend mismatch (" + string.Join("; ", Differences) + ")";

    /// <summary>Pure comparison: <paramref name="loaded"/> is null when the folder was never initialised.</summary>
    public static BackendDrift Compare(BackendConfig expected, LoadedBackend? loaded)
    {
        if (loaded is null)
            return new BackendDrift(false, []);
        var differences = new List<BackendDifference>();
        if (!string.Equals(loaded.Type, "s3", StringComparison.Ordinal))
            differences.Add(new BackendDifference("type", "s3", loaded.Type));
        if (!string.Equals(loaded.Bucket, expected.Bucket, StringComparison.Ordinal))
            differences.Add(new BackendDifference("bucket", expected.Bucket, loaded.Bucket));
        if (!string.Equals(loaded.Key, expected.Key, StringComparison.Ordinal))
            differences.Add(new BackendDifference("key", expected.Key, loaded.Key));
        if (!string.Equals(loaded.Region, expected.Region, StringComparison.Ordinal))
            differences.Add(new BackendDifference("region", expected.Region, loaded.Region));
        return new BackendDrift(true, differences);
    }

    /// <summary>Parses the backend block of <c>.terraform/terraform.tfstate</c>; an unreadable file counts as loaded with nothing.</summary>
    public static LoadedBackend ParseLoaded(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (!document.RootElement.TryGetProperty("backend", out var backend) || backend.ValueKind != JsonValueKind.Object)
                return new LoadedBackend(null, null, null, null);
            var type = String(backend, "type");
            if (!backend.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
                return new LoadedBackend(type, null, null, null);
            return new LoadedBackend(type, String(config, "bucket"), String(config, "key"), String(config, "region"));
        }
        catch (JsonException)
        {
            return new LoadedBackend(null, null, null, null);
        }
    }

    /// <summary>Reads the stack folder's <c>.terraform/terraform.tfstate</c> (null when absent).</summary>
    public static LoadedBackend? ReadLoaded(string stackDirectory)
    {
        var path = LoadedStatePath(stackDirectory);
        return File.Exists(path) ? ParseLoaded(File.ReadAllText(path)) : null;
    }

    public static string LoadedStatePath(string stackDirectory) => Path.Combine(stackDirectory, ".terraform", "terraform.tfstate");

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
