using Tesslate.Build.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Terraform;

public sealed class BackendConfigTests
{
    [Fact]
    public void An_environment_backend_is_rendered_with_its_state_key_encryption_and_native_locking()
    {
        var text = BackendConfig.ForEnvironment("state-bucket", "beta", "us-east-1").Render("Generated; edit the table.");

        Assert.Equal(
            "# Generated; edit the table.\n" +
            "bucket       = \"state-bucket\"\n" +
            "key          = \"beta/terraform.tfstate\"\n" +
            "region       = \"us-east-1\"\n" +
            "encrypt      = true\n" +
            "use_lockfile = true\n",
            text);
    }

    [Fact]
    public void A_rendered_backend_parses_back_to_the_same_configuration()
    {
        var config = BackendConfig.ForEnvironment("state-bucket", "shared", "eu-west-1");

        Assert.Equal(config, BackendConfig.Parse(config.Render("header")));
    }

    [Fact]
    public void A_hand_written_backend_with_comments_and_odd_spacing_parses()
    {
        var config = BackendConfig.Parse("""
            // state for production
            bucket="b1"   # the bucket
            key = "production/terraform.tfstate"
              region   = "us-east-2"
            encrypt = true
            use_lockfile = false
            """);

        Assert.Equal(new BackendConfig("b1", "production/terraform.tfstate", "us-east-2", true, false), config);
    }

    [Fact]
    public void A_backend_without_a_bucket_is_rejected_naming_the_field()
    {
        var error = Assert.Throws<FormatException>(() => BackendConfig.Parse("key = \"beta/terraform.tfstate\"\nregion = \"us-east-1\"\n"));

        Assert.Contains("'bucket'", error.Message);
    }
}

public sealed class BackendDriftTests
{
    private static readonly BackendConfig Expected = BackendConfig.ForEnvironment("state-bucket", "beta", "us-east-1");

    [Fact]
    public void A_folder_never_initialised_needs_init()
    {
        var drift = BackendDrift.Compare(Expected, loaded: null);

        Assert.True(drift.NeedsInit);
        Assert.False(drift.Initialized);
    }

    [Fact]
    public void A_folder_initialised_against_the_expected_backend_needs_nothing()
    {
        var drift = BackendDrift.Compare(Expected, new LoadedBackend("s3", "state-bucket", "beta/terraform.tfstate", "us-east-1"));

        Assert.False(drift.NeedsInit);
        Assert.Empty(drift.Differences);
    }

    [Theory]
    [InlineData("bucket", "other-bucket", "beta/terraform.tfstate", "us-east-1")]
    [InlineData("key", "state-bucket", "production/terraform.tfstate", "us-east-1")]
    [InlineData("region", "state-bucket", "beta/terraform.tfstate", "eu-central-1")]
    public void Each_differing_field_is_reported_by_name(string field, string bucket, string key, string region)
    {
        var drift = BackendDrift.Compare(Expected, new LoadedBackend("s3", bucket, key, region));

        Assert.True(drift.NeedsInit);
        var difference = Assert.Single(drift.Differences);
        Assert.Equal(field, difference.Field);
        Assert.Contains(field, drift.Describe());
    }

    [Fact]
    public void A_local_backend_is_drift_even_with_no_config()
    {
        var drift = BackendDrift.Compare(Expected, BackendDrift.ParseLoaded("""{"version":3,"backend":{"type":"local","config":{"path":"x"}}}"""));

        Assert.Equal(["type", "bucket", "key", "region"], drift.Differences.Select(d => d.Field));
    }

    [Fact]
    public void The_loaded_backend_is_read_from_terraforms_own_file_format()
    {
        var loaded = BackendDrift.ParseLoaded("""
            {"version":3,"serial":1,"lineage":"x","backend":{"type":"s3","config":{"access_key":null,"bucket":"state-bucket",
             "encrypt":true,"key":"beta/terraform.tfstate","region":"us-east-1","use_lockfile":true},"hash":3012345}}
            """);

        Assert.Equal(new LoadedBackend("s3", "state-bucket", "beta/terraform.tfstate", "us-east-1"), loaded);
    }

    [Fact]
    public void A_corrupt_loaded_file_counts_as_drift_rather_than_a_crash()
    {
        var drift = BackendDrift.Compare(Expected, BackendDrift.ParseLoaded("not json"));

        Assert.True(drift.NeedsInit);
    }
}
