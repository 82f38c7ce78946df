using System.Globalization;
using System.Text.RegularExpressions;

namespace Tesslate.Build.Registry;

/// <summary>
/// A registry as image names write it: <c>host[:port]</c>, the host a DNS name, an IPv4 address or a bracketed IPv6
/// address (Docker's reference grammar), with no scheme, path, user or whitespace.
/// </summary>
public static partial class RegistryAddress
{
    /// <summary>Why <paramref name="registry"/> is not a registry address, or null when it is one.</summary>
    public static string? Problem(string registry)
    {
        if (registry.Length == 0)
            return "it is empty";
        if (registry.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            return "it contains whitespace or a control character";
        if (registry.Contains("://", StringComparison.Ordinal))
            return "it has a scheme (Docker talks HTTPS, or plain HTTP to localhost and 127.0.0.0/8, by itself)";
        if (registry.Contains('/', StringComparison.Ordinal))
            return "it has a path (repository names come from the image catalog)";
        if (registry.Contains('@', StringComparison.Ordinal))
            return "it has a user part (credentials come from a registry login, such as docker login or ECR's token)";
        var match = HostAndPort().Match(registry);
        if (!match.Success)
            return "it is not host[:port]";
        if (match.Groups["port"].Success && !(int.TryParse(match.Groups["port"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535))
            return $"port {match.Groups["port"].Value} is not between 1 and 65535";
        return null;
    }

    [GeneratedRegex(@"^(?<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::(?<port>[0-9]+))?$")]
    private static partial Regex HostAndPort();
}
