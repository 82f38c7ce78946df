using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

public sealed class AwsSettingsTests
{
    private static AwsEnvironment Env(params (string Name, string Value)[] variables) =>
        AwsEnvironment.From(variables.ToDictionary(v => v.Name, v => (string?)v.Value));

    [Fact]
    public void Endpoints_default_to_the_public_regional_hosts()
    {
        var endpoints = AwsEndpoints.Resolve("eu-west-1", Env());
        Assert.Equal("https://sts.eu-west-1.amazonaws.com/", endpoints[AwsService.Sts].ToString());
        Assert.Equal("https://api.ecr.eu-west-1.amazonaws.com/", endpoints[AwsService.Ecr].ToString());
        Assert.Equal("https://eks.eu-west-1.amazonaws.com/", endpoints[AwsService.Eks].ToString());
        Assert.Equal("https://secretsmanager.eu-west-1.amazonaws.com/", endpoints[AwsService.SecretsManager].ToString());
        Assert.False(endpoints.IsOverridden);
    }

    [Fact]
    public void Service_specific_endpoint_variables_win_over_the_global_one()
    {
        var endpoints = AwsEndpoints.Resolve("us-east-1", Env(("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"), ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:6000"), ("AWS_ENDPOINT_URL_EKS", "http://127.0.0.1:7000/")));
        Assert.Equal("http://127.0.0.1:5000/", endpoints[AwsService.Sts].ToString());
        Assert.Equal("http://127.0.0.1:5000/", endpoints[AwsService.Ecr].ToString());
        Assert.Equal("http://127.0.0.1:7000/", endpoints[AwsService.Eks].ToString());
        Assert.Equal("http://127.0.0.1:6000/", endpoints[AwsService.SecretsManager].ToString());
        Assert.True(endpoints.IsOverridden);
    }

    [Fact]
    public void An_endpoint_variable_that_is_not_a_url_is_a_usage_error_naming_the_variable()
    {
        var error = Assert.Throws<UsageException>(() => AwsEndpoints.Resolve("us-east-1", Env(("AWS_ENDPOINT_URL_ECR", "localhost:5000"))));
        Assert.Contains("AWS_ENDPOINT_URL_ECR", error.Problem);
    }

    [Theory]
    [InlineData("eu-north-1", "eu-west-2", "eu-west-3", "ap-south-1", "eu-north-1", "--region-of-caller")]
    [InlineData(null, "eu-west-2", "eu-west-3", "ap-south-1", "eu-west-2", "AWS_REGION")]
    [InlineData(null, null, "eu-west-3", "ap-south-1", "eu-west-3", "AWS_DEFAULT_REGION")]
    [InlineData(null, null, null, "ap-south-1", "ap-south-1", "profile")]
    [InlineData(null, null, null, null, "us-east-1", "default")]
    public void Region_comes_from_flag_then_environment_then_profile_then_us_east_1(
        string? flag, string? awsRegion, string? defaultRegion, string? profileRegion, string expected, string source)
    {
        var variables = new Dictionary<string, string?> { ["AWS_REGION"] = awsRegion, ["AWS_DEFAULT_REGION"] = defaultRegion };
        var (region, from) = AwsRegion.Resolve(flag, AwsEnvironment.From(variables), profileRegion, explicitSource: "--region-of-caller");
        Assert.Equal(expected, region);
        Assert.Equal(source, from);
    }

    [Fact]
    public void An_explicit_region_without_the_callers_words_is_reported_as_chosen() =>
        Assert.Equal(("eu-north-1", "chosen"), AwsRegion.Resolve("eu-north-1", Env(), null));

    /// <summary>The AWS adapter's fixes in the caller's words (the pipeline's flags), or the AWS variables alone.</summary>
    [Theory]
    [InlineData("ResourceNotFoundException", true, "Check the name, the account and the region (--region-flag / AWS_REGION).")]
    [InlineData("ResourceNotFoundException", false, "Check the name, the account and the region (AWS_REGION).")]
    [InlineData("AccessDeniedException", true, "The identity in use lacks this permission: use a role that has it (--role-flag / AWS_EKS_ROLE_ARN), or ask an admin to grant it.")]
    [InlineData("AccessDeniedException", false, "The identity in use lacks this permission: use a role that has it (AWS_EKS_ROLE_ARN), or ask an admin to grant it.")]
    public void A_refusal_is_fixed_in_the_callers_words(string code, bool withChoices, string fix)
    {
        var error = new AwsError(AwsService.Eks, "DescribeCluster", System.Net.HttpStatusCode.BadRequest, code, "m");
        Assert.Equal(fix, AwsServiceException.From(error, choices: withChoices ? Choices : null).Fix);
    }

    [Theory]
    [InlineData(null, true, "Use credentials for account 222222222222: pass --profile-flag <profile-for-222222222222> or set AWS_PROFILE.")]
    [InlineData(null, false, "Use credentials for account 222222222222: set AWS_PROFILE=<profile-for-222222222222>.")]
    [InlineData("dev", true, "Profile 'dev' points at account 111111111111; pass --profile-flag with a profile for account 222222222222.")]
    [InlineData("dev", false, "Profile 'dev' points at account 111111111111; choose a profile for account 222222222222.")]
    public void Credentials_of_another_account_are_fixed_in_the_callers_words(string? profile, bool withChoices, string fix)
    {
        var identity = new CallerIdentity("111111111111", "arn:aws:iam::111111111111:user/jane", "AIDA");
        var error = Assert.Throws<BuildFailure>(() => IdentityPreflight.VerifyAccount(identity, "222222222222", profile, "environment variables", withChoices ? Choices : null));
        Assert.Equal(fix, error.Fix);
    }

    private static readonly AwsChoices Choices = new("--profile-flag", "--region-flag", "--role-flag");

    [Fact]
    public void A_malformed_region_is_a_usage_error() =>
        Assert.Throws<UsageException>(() => AwsRegion.Resolve("US East 1", Env(), null));

    [Fact]
    public void Role_session_names_say_who_and_when_within_the_sts_alphabet_and_length()
    {
        var name = RoleSessionName.Create("jane doe/ÿ", new DateTimeOffset(2026, 11, 28, 16, 3, 0, TimeSpan.Zero));
        Assert.Equal("jane-doe-20261128T160300Z", name);
        var long_ = RoleSessionName.Create(new string('a', 100), DateTimeOffset.UnixEpoch);
        Assert.Equal(64, long_.Length);
        Assert.EndsWith("-19700101T000000Z", long_);
    }
}
