using System.Text.RegularExpressions;
using Serilog;
using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.Terraform;

namespace Tesslate.Build.Platform;

/// <summary>Which variable names differ between the local tfvars and the stored ones; never any value.</summary>
public sealed record TfvarsDiff(bool SecretExists, IReadOnlyList<string> Added, IReadOnlyList<string> Removed, IReadOnlyList<string> Changed)
{
    public bool HasChanges => !SecretExists || Added.Count + Removed.Count + Changed.Count > 0;

    public IReadOnlyList<string> Lines() =>
        [.. (SecretExists ? [] : new[] { "(the secret does not exist yet: it will be created)" }),
         .. Added.Select(n => "+ " + n), .. Removed.Select(n => "- " + n), .. Changed.Select(n => "~ " + n + " (value changed)")];
}

/// <summary>Which variables are sensitive: <c>sensitive = true</c> in the stack's variables, else by name.</summary>
public static partial class SensitiveVariables
{
    /// <summary>Names of variables declared with <c>sensitive = true</c> in the stack's *.tf files.</summary>
    public static IReadOnlySet<string> Declared(string stackDirectory) =>
        StackVariables.Read(stackDirectory).Where(v => SensitiveTrue().IsMatch(v.Value)).Select(v => v.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary>The fallback when a stack does not say: names that usually hold secrets.</summary>
    public static bool LooksSensitive(string name) => SecretName().IsMatch(name);

    public static bool IsSensitive(string name, IReadOnlySet<string> declared) => declared.Contains(name) || LooksSensitive(name);

    [GeneratedRegex("""^\s*sensitive\s*=\s*true\b""", RegexOptions.Multiline)]
    private static partial Regex SensitiveTrue();

    [GeneratedRegex("password|passwd|token|secret|key|credential|private|dsn|webhook", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();
}

/// <summary>
/// The tfvars of an environment between Secrets Manager (<c>tesslate/terraform/&lt;env&gt;</c>, raw tfvars text) and the
/// stack folder, replacing <c>scripts/terraform/secrets.sh</c>: download (0600, never over a local file without
/// confirmation), upload (names-only diff, confirmation, create or new version), view (sensitive values masked).
/// </summary>
public sealed class TfvarsSync(SecretsManagerClient secrets, Approvals approvals, ILogger logger)
{
    public const string Mask = "(sensitive)";

    public static string Description(string environment) => $"Terraform variables for OpenSail {environment} environment";

    /// <summary>Writes the stored tfvars to <paramref name="localPath"/> (mode 0600); asks before replacing a different local file.</summary>
    public async Task<int> DownloadAsync(string secretId, string localPath, CancellationToken cancellationToken)
    {
        var text = await secrets.GetSecretStringAsync(secretId, cancellationToken);
        var remote = TfvarsFile.Parse(text, secretId);
        remote.RegisterSecrets();
        if (File.Exists(localPath))
        {
            if (await File.ReadAllTextAsync(localPath, cancellationToken) == text)
            {
                logger.Information("{Path} already matches {SecretId}; nothing written", localPath, secretId);
                return remote.VariableNames.Count;
            }
            var local = TfvarsFile.Parse(await File.ReadAllTextAsync(localPath, cancellationToken), localPath);
            var diff = Compare(local, remote, secretExists: true);
            foreach (var line in diff.Lines())
                logger.Information("  {Line}", line);
            await approvals.RequireAsync($"{localPath} exists and differs from {secretId} (above: what the download changes). Replace it?", "yes", cancellationToken);
        }
        await WritePrivateAsync(localPath, text, cancellationToken);
        logger.Information("{SecretId} → {Path} ({Count} variables, mode 0600)", secretId, localPath, remote.VariableNames.Count);
        return remote.VariableNames.Count;
    }

    /// <summary>Shows which names change, asks, then creates the secret or stores a new version. Returns the diff.</summary>
    public async Task<TfvarsDiff> UploadAsync(string secretId, string localPath, string environment, CancellationToken cancellationToken)
    {
        if (!File.Exists(localPath))
            throw new BuildFailure($"There is no local tfvars file to upload: {localPath}.",
                $"Download it first (./build.sh TfvarsDownload --environment {environment}), edit it, then upload; or pass --tfvars <file>.");
        var text = await File.ReadAllTextAsync(localPath, cancellationToken);
        var local = TfvarsFile.Parse(text, localPath);
        local.RegisterSecrets();
        local.RequireEnvironment(environment, "--environment");
        var exists = await secrets.TryDescribeSecretAsync(secretId, cancellationToken) is not null;
        TfvarsFile? remote = null;
        if (exists)
        {
            remote = TfvarsFile.Parse(await secrets.GetSecretStringAsync(secretId, cancellationToken), secretId);
            remote.RegisterSecrets();
        }
        var diff = Compare(remote, local, exists);
        if (!diff.HasChanges)
        {
            logger.Information("{SecretId} already holds these variables and values; nothing uploaded", secretId);
            return diff;
        }
        logger.Information("Changes from {Path} to {SecretId}:", localPath, secretId);
        foreach (var line in diff.Lines())
            logger.Information("  {Line}", line);
        await approvals.RequireAsync($"Upload {localPath} to {secretId}?", "yes", cancellationToken);
        if (exists)
            await secrets.PutSecretValueAsync(secretId, text, cancellationToken);
        else
            await secrets.CreateSecretAsync(secretId, Description(environment), text, cancellationToken);
        logger.Information("{SecretId}: {What} ({Count} variables)", secretId, exists ? "new version stored" : "created", local.VariableNames.Count);
        return diff;
    }

    /// <summary>The stored tfvars as <c>name = value</c> lines, sensitive values replaced by <see cref="Mask"/>.</summary>
    public async Task<IReadOnlyList<string>> ViewAsync(string secretId, string stackDirectory, CancellationToken cancellationToken) =>
        View(await secrets.GetSecretStringAsync(secretId, cancellationToken), secretId, SensitiveVariables.Declared(stackDirectory));

    /// <summary>Pure: one line per variable, in name order; sensitive values masked (and registered for redaction).</summary>
    public static IReadOnlyList<string> View(string text, string source, IReadOnlySet<string> declaredSensitive)
    {
        var file = TfvarsFile.Parse(text, source);
        var lines = new List<string>();
        foreach (var name in file.VariableNames.Order(StringComparer.Ordinal))
        {
            if (SensitiveVariables.IsSensitive(name, declaredSensitive))
            {
                Secrets.Register(file.RawValue(name)!);
                lines.Add($"{name} = {Mask}");
            }
            else
                lines.Add($"{name} = {file.RawValue(name)}");
        }
        return lines;
    }

    /// <summary>Pure: names added, removed and changed from <paramref name="before"/> to <paramref name="after"/>.</summary>
    public static TfvarsDiff Compare(TfvarsFile? before, TfvarsFile after, bool secretExists)
    {
        var old = before?.VariableNames.ToHashSet(StringComparer.Ordinal) ?? [];
        var now = after.VariableNames.ToHashSet(StringComparer.Ordinal);
        return new TfvarsDiff(secretExists,
            [.. now.Except(old).Order(StringComparer.Ordinal)],
            [.. old.Except(now).Order(StringComparer.Ordinal)],
            [.. now.Intersect(old).Where(n => before!.RawValue(n) != after.RawValue(n)).Order(StringComparer.Ordinal)]);
    }

    private static async Task WritePrivateAsync(string path, string text, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            await using (var stream = new FileStream(temporary, options))
            await using (var writer = new StreamWriter(stream))
                await writer.WriteAsync(text.AsMemory(), cancellationToken);
            File.Move(temporary, path, overwrite: true);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
