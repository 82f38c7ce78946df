using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tesslate.Build.Engine;

/// <summary>
/// Every secret the run knows, from [Secret] parameters and from adapters that learn one at run time
/// (registry passwords, session tokens, cluster tokens, tfvars values). All output passes through <see cref="Redact"/>.
/// </summary>
public sealed class SecretRegistry
{
    public const string Mask = "[REDACTED]";

    // Short values would redact ordinary words; no real credential is this short.
    private const int MinimumLength = 4;

    private readonly Lock _gate = new();
    private string[] _values = [];

    /// <summary>Raised once per newly registered value, e.g. to emit GitHub's <c>::add-mask::</c>.</summary>
    public event Action<string>? Registered;

    /// <summary>Registers a secret and the forms it takes in the formats the run writes or reads (<see cref="EncodedForms"/>).</summary>
    public void Register(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length < MinimumLength)
            return;
        foreach (var form in EncodedForms(value).Prepend(value).Distinct(StringComparer.Ordinal))
            Add(form);
    }

    /// <summary>A Basic credential: the password, and <c>base64(user:password)</c> as an Authorization header or a docker config carries it.</summary>
    public void RegisterBasicCredentials(string username, string? password)
    {
        Register(password);
        if (!string.IsNullOrEmpty(password))
            Add(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
    }

    /// <summary>
    /// How a value looks once written into a format: a JSON or HCL string (escaped quotes, backslashes, control characters;
    /// System.Text.Json's default encoder also escapes <c>+</c>, <c>&lt;</c>, <c>'</c>), a URL (percent-encoded, either hex
    /// case, or form-encoded), base64.
    /// </summary>
    public static IEnumerable<string> EncodedForms(string value)
    {
        yield return JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value;
        yield return JsonEncodedText.Encode(value).Value;
        yield return value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal)
            .Replace("${", "$${", StringComparison.Ordinal).Replace("%{", "%%{", StringComparison.Ordinal);
        var escaped = Uri.EscapeDataString(value);
        yield return escaped;
        yield return LowerHex(escaped);
        var formEncoded = WebUtility.UrlEncode(value);
        yield return formEncoded;
        yield return LowerHex(formEncoded);
        yield return Convert.ToBase64String(Encoding.UTF8.GetBytes(value));
    }

    private static string LowerHex(string percentEncoded)
    {
        var builder = new StringBuilder(percentEncoded);
        for (var i = 0; i + 2 < builder.Length; i++)
        {
            if (builder[i] != '%')
                continue;
            builder[i + 1] = char.ToLowerInvariant(builder[i + 1]);
            builder[i + 2] = char.ToLowerInvariant(builder[i + 2]);
        }
        return builder.ToString();
    }

    private void Add(string value)
    {
        if (value.Length < MinimumLength)
            return;
        lock (_gate)
        {
            if (_values.Contains(value, StringComparer.Ordinal))
                return;
            // Longest first, so a secret that contains another is masked whole.
            _values = [.. _values.Append(value).OrderByDescending(v => v.Length)];
        }
        Registered?.Invoke(value);
    }

    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return text ?? string.Empty;
        var values = _values;
        foreach (var value in values)
        {
            if (text.Contains(value, StringComparison.Ordinal))
                text = text.Replace(value, Mask, StringComparison.Ordinal);
        }
        return text;
    }

    public bool IsEmpty => _values.Length == 0;
}

/// <summary>
/// The run's secret registry; adapters call <see cref="Register"/> for every secret they learn. A run (or a test)
/// opens its own scope, so parallel runs in one process never see each other's secrets.
/// </summary>
public static class Secrets
{
    private static readonly AsyncLocal<SecretRegistry?> Scoped = new();
    private static readonly SecretRegistry Global = new();

    public static SecretRegistry Current => Scoped.Value ?? Global;

    public static void Register(string? value) => Current.Register(value);

    public static void RegisterBasicCredentials(string username, string? password) => Current.RegisterBasicCredentials(username, password);

    public static string Redact(string? text) => Current.Redact(text);

    /// <summary>A fresh registry for the current async flow and everything it starts.</summary>
    public static SecretRegistry BeginScope() => Scoped.Value = new SecretRegistry();
}
