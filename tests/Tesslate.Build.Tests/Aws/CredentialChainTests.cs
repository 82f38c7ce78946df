using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

[CollectionDefinition("process environment", DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;

/// <summary>
/// The SDK's default chain reads the process environment and ~/.aws, so these tests point AWS_CONFIG_FILE and
/// AWS_SHARED_CREDENTIALS_FILE at files they write and run alone.
/// </summary>
[Collection("process environment")]
public sealed class CredentialChainTests : IDisposable
{
    private static readonly string[] Variables =
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
         "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_EC2_METADATA_DISABLED", "AWS_REGION", "AWS_DEFAULT_REGION"];

    private readonly Dictionary<string, string?> _saved = Variables.ToDictionary(v => v, System.Environment.GetEnvironmentVariable);
    // AWSSDK.Core keeps the config file paths it first saw for the process: the test assembly's own, rewritten per test.
    private readonly DirectoryInfo _home = new(AwsTestHome.Directory);
    private readonly LogCapture _log = new();

    public CredentialChainTests()
    {
        foreach (var variable in Variables)
            System.Environment.SetEnvironmentVariable(variable, null);
        System.Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        File.WriteAllText(Path.Combine(_home.FullName, "config"), "");
        File.WriteAllText(Path.Combine(_home.FullName, "credentials"), "");
    }

    public void Dispose()
    {
        File.WriteAllText(AwsTestHome.ConfigFile, "");
        File.WriteAllText(AwsTestHome.CredentialsFile, "");
        foreach (var (name, value) in _saved)
            System.Environment.SetEnvironmentVariable(name, value);
    }

    [Fact]
    public async Task No_credentials_at_all_is_a_missing_prerequisite_that_says_how_to_log_in()
    {
        var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => AwsSession.ConnectAsync(new AwsOptions { Choices = new(Profile: "--profile-flag") }, _log.Logger, TestContext.Current.CancellationToken));
        Assert.Contains("No AWS credentials", error.Problem);
        Assert.Equal("Log in first: 'aws sso login --profile <name>' and pass --profile-flag <name> (or set AWS_PROFILE), or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.", error.Fix);
    }

    [Fact]
    public async Task A_profile_that_does_not_exist_is_named()
    {
        var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => AwsSession.ConnectAsync(new AwsOptions { Profile = "nope", Choices = new(Profile: "--profile-flag") }, _log.Logger, TestContext.Current.CancellationToken));
        Assert.Contains("'nope' (--profile-flag)", error.Problem);
        Assert.EndsWith("or pass an existing profile with --profile-flag.", error.Fix);
    }

    [Fact]
    public async Task An_AWS_PROFILE_that_does_not_exist_is_named_too()
    {
        System.Environment.SetEnvironmentVariable("AWS_PROFILE", "ghost");
        var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => AwsSession.ConnectAsync(new AwsOptions(), _log.Logger, TestContext.Current.CancellationToken));
        Assert.Contains("'ghost'", error.Problem);
    }

    [Fact]
    public async Task An_sso_profile_without_a_live_session_says_aws_sso_login()
    {
        await File.WriteAllTextAsync(Path.Combine(_home.FullName, "config"), """
            [profile tesslate]
            sso_session = corp
            sso_account_id = 859561299901
            sso_role_name = Admin
            region = us-east-1
            [sso-session corp]
            sso_start_url = https://example.awsapps.com/start
            sso_region = us-east-1
            """, TestContext.Current.CancellationToken);
        System.Environment.SetEnvironmentVariable("HOME", _home.FullName); // no ~/.aws/sso/cache token
        try
        {
            var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => AwsSession.ConnectAsync(new AwsOptions { Profile = "tesslate" }, _log.Logger, TestContext.Current.CancellationToken));
            Assert.Contains("SSO session", error.Problem);
            Assert.Equal("Run 'aws sso login --profile tesslate' and rerun.", error.Fix);
        }
        finally
        {
            System.Environment.SetEnvironmentVariable("HOME", _saved.GetValueOrDefault("HOME") ?? System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile));
        }
    }

    [Fact]
    public async Task A_key_profile_is_used_with_its_region_and_its_secret_is_registered()
    {
        await File.WriteAllTextAsync(Path.Combine(_home.FullName, "config"), "[profile dev]\nregion = eu-central-1\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_home.FullName, "credentials"), "[dev]\naws_access_key_id = AKIADEVDEVDEVDEV0000\naws_secret_access_key = dev-secret-key-value-123\n", TestContext.Current.CancellationToken);
        using var session = await AwsSession.ConnectAsync(new AwsOptions { Profile = "dev" }, _log.Logger, TestContext.Current.CancellationToken);
        Assert.Equal("eu-central-1", session.Region);
        Assert.Equal("profile", session.RegionSource);
        Assert.Equal("dev", session.Profile);
        Assert.Equal(SecretRegistry.Mask, Secrets.Redact("dev-secret-key-value-123"));
    }

    [Fact]
    public async Task Environment_keys_are_found_by_the_default_chain()
    {
        System.Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "AKIAENVENVENVENV0000");
        System.Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "env-secret-key-value-456");
        using var session = await AwsSession.ConnectAsync(new AwsOptions { Region = "us-west-2" }, _log.Logger, TestContext.Current.CancellationToken);
        Assert.Equal("environment variables", session.CredentialSource);
        Assert.Equal("us-west-2", session.Region);
        Assert.Equal("AKIAENVENVENVENV0000", (await session.Credentials.GetCredentialsAsync()).AccessKey);
    }
}
