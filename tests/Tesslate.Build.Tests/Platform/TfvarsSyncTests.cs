using Tesslate.Build.Engine;
using Tesslate.Build.Platform;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Operations;

/// <summary>TfvarsUpload/Download/View against moto's Secrets Manager: values never reach the output.</summary>
[Collection("moto")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TfvarsSyncTests(MotoFixture moto) : MotoTests(moto)
{
    private const string SecretId = "tesslate/terraform/beta";
    private const string Password = "pg-Upl0ad-Secret-77";
    private const string Tfvars = $"""
        environment       = "beta"
        domain_name       = "beta.example.test"
        postgres_password = "{Password}"
        node_count        = 3
        """;

    private readonly string _stack = Directory.CreateTempSubdirectory("tfvars-sync").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public override ValueTask DisposeAsync()
    {
        Directory.Delete(_stack, true);
        return base.DisposeAsync();
    }

    private static Approvals Answer(string answer, out StringWriter prompt)
    {
        prompt = new StringWriter();
        return new Approvals(false, new StringReader(answer + "\n"), prompt, interactive: true);
    }

    [Fact]
    public async Task Upload_creates_the_secret_and_download_brings_back_the_same_text_0600_without_printing_values()
    {
        using var session = Session();
        var local = Path.Combine(_stack, "terraform.beta.tfvars");
        await File.WriteAllTextAsync(local, Tfvars, Ct);

        var diff = await new TfvarsSync(session.SecretsManager, Answer("yes", out var prompt), Log.Logger).UploadAsync(SecretId, local, "beta", Ct);
        Assert.False(diff.SecretExists);
        Assert.Equal(["domain_name", "environment", "node_count", "postgres_password"], diff.Added);
        Assert.Contains("Upload", prompt.ToString());

        var downloaded = Path.Combine(_stack, "again", "terraform.beta.tfvars");
        var count = await new TfvarsSync(session.SecretsManager, Answer("no", out _), Log.Logger).DownloadAsync(SecretId, downloaded, Ct);
        Assert.Equal(4, count);
        Assert.Equal(Tfvars, await File.ReadAllTextAsync(downloaded, Ct));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(downloaded));
        Assert.DoesNotContain(Log.Lines, l => l.Contains(Password, StringComparison.Ordinal) || l.Contains("beta.example.test", StringComparison.Ordinal));
        Assert.DoesNotContain(Password, prompt.ToString());
    }

    [Fact]
    public async Task A_second_upload_names_the_changed_variable_and_stores_a_new_version()
    {
        using var session = Session();
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", SecretId, "--secret-string", Tfvars);
        var local = Path.Combine(_stack, "terraform.beta.tfvars");
        await File.WriteAllTextAsync(local, Tfvars.Replace(Password, "rotated-Value-88", StringComparison.Ordinal), Ct);
        var diff = await new TfvarsSync(session.SecretsManager, Answer("yes", out _), Log.Logger).UploadAsync(SecretId, local, "beta", Ct);
        Assert.Equal(["postgres_password"], diff.Changed);
        Assert.Empty(diff.Added);
        Assert.Contains(Log.Lines, l => l.Contains("~ postgres_password (value changed)", StringComparison.Ordinal));
        Assert.DoesNotContain(Log.Lines, l => l.Contains("rotated-Value-88", StringComparison.Ordinal) || l.Contains(Password, StringComparison.Ordinal));
        Assert.Contains("rotated-Value-88", await session.SecretsManager.GetSecretStringAsync(SecretId, Ct));
    }

    [Fact]
    public async Task Download_never_replaces_a_different_local_file_without_confirmation()
    {
        using var session = Session();
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", SecretId, "--secret-string", Tfvars);
        var local = Path.Combine(_stack, "terraform.beta.tfvars");
        await File.WriteAllTextAsync(local, "environment = \"beta\"\nlocal_only = \"x\"\n", Ct);
        await Assert.ThrowsAsync<BuildFailure>(() => new TfvarsSync(session.SecretsManager, Answer("no", out _), Log.Logger).DownloadAsync(SecretId, local, Ct));
        Assert.Contains("local_only", await File.ReadAllTextAsync(local, Ct));
        await new TfvarsSync(session.SecretsManager, Answer("yes", out _), Log.Logger).DownloadAsync(SecretId, local, Ct);
        Assert.Equal(Tfvars, await File.ReadAllTextAsync(local, Ct));
    }

    [Fact]
    public async Task Upload_without_a_local_file_or_for_another_environment_fails_before_any_call()
    {
        using var session = Session();
        var sync = new TfvarsSync(session.SecretsManager, Answer("yes", out _), Log.Logger);
        var missing = await Assert.ThrowsAsync<BuildFailure>(() => sync.UploadAsync(SecretId, Path.Combine(_stack, "absent.tfvars"), "beta", Ct));
        Assert.Contains("TfvarsDownload", missing.Fix);
        var wrong = Path.Combine(_stack, "terraform.production.tfvars");
        await File.WriteAllTextAsync(wrong, Tfvars, Ct);
        await Assert.ThrowsAsync<BuildFailure>(() => sync.UploadAsync("tesslate/terraform/production", wrong, "production", Ct));
        Assert.Null(await session.SecretsManager.TryDescribeSecretAsync("tesslate/terraform/production", Ct));
    }

    [Fact]
    public async Task View_masks_sensitive_values_read_from_secrets_manager()
    {
        using var session = Session();
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", SecretId, "--secret-string", Tfvars);
        var lines = await new TfvarsSync(session.SecretsManager, Answer("yes", out _), Log.Logger).ViewAsync(SecretId, _stack, Ct);
        Assert.Contains("postgres_password = (sensitive)", lines);
        Assert.Contains("node_count = 3", lines);
        Assert.DoesNotContain(lines, l => l.Contains(Password, StringComparison.Ordinal));
    }
}
