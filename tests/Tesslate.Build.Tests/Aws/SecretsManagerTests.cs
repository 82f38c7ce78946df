using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

[Collection("moto")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SecretsManagerTests(MotoFixture moto) : MotoTests(moto)
{
    internal const string Tfvars = """
        # beta
        domain_name            = "beta.example.test"
        postgres_password      = "pg-S3cret-Value-42"
        stripe_key = "sk_test_51Hq\"quoted\"rest"
        node_count = 3
        tags = {
          owner = "platform-team-x"
        }
        """;

    [Fact]
    public async Task The_secret_lands_in_a_0600_file_that_is_gone_after_dispose()
    {
        var ct = TestContext.Current.CancellationToken;
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", "tesslate/terraform/beta", "--secret-string", Tfvars);
        using var session = Session();
        string path;
        await using (var file = await SecretFile.FromSecretsManagerAsync(session.SecretsManager, "tesslate/terraform/beta", "terraform.beta.tfvars", ct))
        {
            path = file.Path;
            Assert.Equal("terraform.beta.tfvars", Path.GetFileName(path));
            Assert.Equal(Tfvars, await File.ReadAllTextAsync(path, ct));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        }
        Assert.False(File.Exists(path));
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }

    [Fact]
    public async Task The_file_is_gone_after_a_failing_target_too()
    {
        var ct = TestContext.Current.CancellationToken;
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", "tesslate/terraform/production", "--secret-string", Tfvars);
        using var session = Session();
        string? path = null;
        await Assert.ThrowsAsync<BuildFailure>(async () =>
        {
            await using var file = await SecretFile.FromSecretsManagerAsync(session.SecretsManager, "tesslate/terraform/production", "terraform.production.tfvars", ct);
            path = file.Path;
            throw new BuildFailure("terraform plan failed", "fix it");
        });
        Assert.NotNull(path);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Every_tfvars_value_and_the_whole_text_are_registered_as_secrets()
    {
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", "tesslate/terraform/shared", "--secret-string", Tfvars);
        using var session = Session();
        await using var file = await SecretFile.FromSecretsManagerAsync(session.SecretsManager, "tesslate/terraform/shared", "terraform.shared.tfvars", TestContext.Current.CancellationToken);
        foreach (var value in new[] { "beta.example.test", "pg-S3cret-Value-42", "sk_test_51Hq\"quoted\"rest", "platform-team-x" })
            Assert.Equal($"x {SecretRegistry.Mask} y", Secrets.Redact($"x {value} y"));
        Assert.Equal(SecretRegistry.Mask, Secrets.Redact(Tfvars));
    }

    [Fact]
    public void Tfvars_values_are_parsed_from_quoted_assignments_only() =>
        Assert.Equal(["beta.example.test", "pg-S3cret-Value-42", "sk_test_51Hq\"quoted\"rest", "platform-team-x"], TfvarsSecrets.Values(Tfvars));

    [Fact]
    public async Task A_missing_secret_id_is_ResourceNotFound_naming_the_id()
    {
        using var session = Session();
        var error = await Assert.ThrowsAsync<ResourceNotFoundException>(() =>
            SecretFile.FromSecretsManagerAsync(session.SecretsManager, "tesslate/terraform/nope", "x.tfvars", TestContext.Current.CancellationToken));
        Assert.Contains("'tesslate/terraform/nope'", error.Problem);
    }
}
