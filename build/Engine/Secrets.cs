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

    public void Register(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length < MinimumLength)
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

    public static string Redact(string? text) => Current.Redact(text);

    /// <summary>A fresh registry for the current async flow and everything it starts.</summary>
    public static SecretRegistry BeginScope() => Scoped.Value = new SecretRegistry();
}
