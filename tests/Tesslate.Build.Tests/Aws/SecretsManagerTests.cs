using Tesslate.Build.Aws;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

/// <summary>GetSecretValue against moto's Secrets Manager; the tfvars path through the pipeline is in TerraformTargetsTests.</summary>
[Collection("moto")]
public sealed class SecretsManagerTests(MotoFixture moto) : MotoTests(moto)
{
    internal const string Tfvars = """
        # beta
        environment       = "beta"
        postgres_password = "pg-S3cret-Value-42"
        stripe_key = "sk_test_51Hq\"quoted\"rest"
        """;

    [Fact]
    public async Task The_secret_string_comes_back_as_stored()
    {
        await Moto.AwsCliAsync("secretsmanager", "create-secret", "--name", "tesslate/terraform/beta", "--secret-string", Tfvars);
        using var session = Session();
        Assert.Equal(Tfvars, await session.SecretsManager.GetSecretStringAsync("tesslate/terraform/beta", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_missing_secret_id_is_ResourceNotFound_naming_the_id()
    {
        using var session = Session();
        var error = await Assert.ThrowsAsync<ResourceNotFoundException>(() =>
            session.SecretsManager.GetSecretStringAsync("tesslate/terraform/nope", TestContext.Current.CancellationToken));
        Assert.Contains("'tesslate/terraform/nope'", error.Problem);
    }
}
