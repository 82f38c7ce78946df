using System.Text.RegularExpressions;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Aws;

/// <summary>
/// A secret's text in a private temporary file (0600 in a 0700 directory) for a tool that wants a path (terraform
/// -var-file). Never printed; deleted on dispose, and at process exit if the owner never got to dispose it.
/// </summary>
public sealed class SecretFile : IDisposable, IAsyncDisposable
{
    private readonly string _directory;

    private SecretFile(string directory, string path)
    {
        _directory = directory;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Reads <paramref name="secretId"/> from Secrets Manager into <paramref name="fileName"/> in a private directory.</summary>
    public static async Task<SecretFile> FromSecretsManagerAsync(SecretsManagerClient client, string secretId, string fileName, CancellationToken cancellationToken)
    {
        var text = await client.GetSecretStringAsync(secretId, cancellationToken);
        if (fileName.EndsWith(".tfvars", StringComparison.OrdinalIgnoreCase))
            TfvarsSecrets.RegisterValues(text);
        return await WriteAsync(text, fileName, cancellationToken);
    }

    public static async Task<SecretFile> WriteAsync(string content, string fileName, CancellationToken cancellationToken)
    {
        if (fileName.Length == 0 || fileName.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0 || fileName is "." or "..")
            throw new UsageException($"'{fileName}' is not a plain file name.", "Pass a name such as terraform.beta.tfvars.");
        Secrets.Register(content);
        var directory = TemporarySecretFiles.CreateDirectory("secret");
        var path = System.IO.Path.Combine(directory, fileName);
        try
        {
            await TemporarySecretFiles.WriteAsync(path, content, cancellationToken);
        }
        catch
        {
            TemporarySecretFiles.Delete(directory);
            throw;
        }
        return new SecretFile(directory, path);
    }

    public void Dispose() => TemporarySecretFiles.Delete(_directory);

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>tfvars hold secrets line by line: every quoted value of a <c>name = "value"</c> line is registered for redaction.</summary>
public static partial class TfvarsSecrets
{
    public static IReadOnlyList<string> Values(string tfvars) =>
        [.. Assignment().Matches(tfvars).Select(m => Regex.Unescape(m.Groups["value"].Value)).Where(v => v.Length > 0)];

    public static void RegisterValues(string tfvars)
    {
        foreach (var value in Values(tfvars))
            Secrets.Register(value);
    }

    [GeneratedRegex("""^\s*"?[A-Za-z_][\w-]*"?\s*[=:]\s*"(?<value>(?:[^"\\\r\n]|\\.)*)"\s*,?\s*(?:#.*|//.*)?$""", RegexOptions.Multiline)]
    private static partial Regex Assignment();
}
