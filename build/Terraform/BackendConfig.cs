using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Tesslate.Build.Terraform;

/// <summary>
/// An S3 backend configuration as written to <c>backend-&lt;env&gt;.hcl</c> and passed to <c>init -backend-config</c>:
/// the state bucket, the state key, its region, always encrypted and locked with S3-native lock files.
/// </summary>
public sealed partial record BackendConfig(string Bucket, string Key, string Region, bool Encrypt = true, bool UseLockfile = true)
{
    /// <summary>The conventional state key of an environment: <c>&lt;env&gt;/terraform.tfstate</c>.</summary>
    public static BackendConfig ForEnvironment(string bucket, string environment, string region) =>
        new(bucket, $"{environment}/terraform.tfstate", region);

    /// <summary>The file's text; <paramref name="header"/> lines become comments at the top.</summary>
    public string Render(string? header = null)
    {
        var text = new StringBuilder();
        if (header is not null)
        {
            foreach (var line in header.Split('\n'))
                text.Append("# ").Append(line.TrimEnd()).Append('\n');
        }
        text.Append("bucket       = ").Append(Quote(Bucket)).Append('\n');
        text.Append("key          = ").Append(Quote(Key)).Append('\n');
        text.Append("region       = ").Append(Quote(Region)).Append('\n');
        text.Append("encrypt      = ").Append(Encrypt ? "true" : "false").Append('\n');
        text.Append("use_lockfile = ").Append(UseLockfile ? "true" : "false").Append('\n');
        return text.ToString();
    }

    /// <summary>Reads a backend file's <c>name = value</c> lines; throws <see cref="FormatException"/> naming what is missing.</summary>
    public static BackendConfig Parse(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("//", StringComparison.Ordinal))
                continue;
            var match = Assignment().Match(line);
            if (!match.Success)
                throw new FormatException($"Unexpected line in backend configuration: '{line}' (expected name = value).");
            values[match.Groups["name"].Value] = match.Groups["string"].Success
                ? Unescape(match.Groups["string"].Value)
                : match.Groups["bare"].Value;
        }

        string Required(string name) => values.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new FormatException($"The backend configuration has no '{name}'.");
        bool Flag(string name) => !values.TryGetValue(name, out var value) || bool.Parse(value.ToLower(CultureInfo.InvariantCulture));

        return new BackendConfig(Required("bucket"), Required("key"), Required("region"), Flag("encrypt"), Flag("use_lockfile"));
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string Unescape(string value) => value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    [GeneratedRegex("""^(?<name>[A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"(?<string>(?:[^"\\]|\\.)*)"|(?<bare>[^\s#]+))\s*(?:(#|//).*)?$""")]
    private static partial Regex Assignment();
}
