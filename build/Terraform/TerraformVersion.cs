using System.Text.Json;
using System.Text.RegularExpressions;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Terraform;

/// <summary>The installed Terraform's version, and the judgement whether it is new enough.</summary>
public static partial class TerraformVersion
{
    /// <summary>1.11 is the first release where S3-native state locking (<c>use_lockfile</c>) is generally available.</summary>
    public static Version Minimum { get; } = new(1, 11, 0);

    /// <summary>Whether <paramref name="version"/> is new enough for the stacks.</summary>
    public static bool IsSupported(Version version) => version >= Minimum;

    /// <summary>Reads <c>terraform version -json</c>; falls back to the text form (<c>Terraform v0.12.31</c>) of releases without -json.</summary>
    public static Version? Parse(string output)
    {
        var text = output.Trim();
        if (text.StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                if (document.RootElement.TryGetProperty("terraform_version", out var version) && version.GetString() is { } value)
                    return ParseNumber(value);
            }
            catch (JsonException)
            {
                // fall through to the text form
            }
        }
        var match = TextVersion().Match(text);
        return match.Success ? ParseNumber(match.Groups["v"].Value) : null;
    }

    /// <summary>Throws a <see cref="BuildFailure"/> naming the found and required versions and how to upgrade.</summary>
    public static void Require(Version? found, string executablePath, string rawOutput)
    {
        if (found is null)
        {
            throw new BuildFailure(
                $"Could not read Terraform's version from '{executablePath} version -json' (it printed: {Shorten(rawOutput)}).",
                $"Make sure '{executablePath}' is HashiCorp Terraform {Minimum.ToString(2)} or newer.");
        }
        if (!IsSupported(found))
        {
            throw new BuildFailure(
                $"Terraform {found} is installed at {executablePath}, but {Minimum.ToString(2)} or newer is required " +
                "(S3-native state locking, use_lockfile = true, is generally available from 1.11; the stacks' required_version says the same).",
                $"Upgrade Terraform to {Minimum.ToString(2)} or newer: 'brew upgrade terraform', 'tfenv install latest && tfenv use latest', " +
                "or download it from https://developer.hashicorp.com/terraform/install; in GitHub Actions set hashicorp/setup-terraform's " +
                $"terraform_version to {Minimum.ToString(2)} or newer.");
        }
    }

    private static Version? ParseNumber(string value)
    {
        var match = Number().Match(value);
        if (!match.Success)
            return null;
        return new Version(int.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value),
            match.Groups[3].Success ? int.Parse(match.Groups[3].Value) : 0);
    }

    private static string Shorten(string text)
    {
        var line = text.Trim().Split('\n').FirstOrDefault() ?? string.Empty;
        return line.Length == 0 ? "nothing" : line.Length > 120 ? line[..120] + "…" : line;
    }

    [GeneratedRegex(@"^(\d+)\.(\d+)(?:\.(\d+))?")]
    private static partial Regex Number();

    [GeneratedRegex(@"Terraform v(?<v>\d+\.\d+(?:\.\d+)?)")]
    private static partial Regex TextVersion();
}
