using System.Text.Json;
using Amazon.Runtime;
using Tesslate.Build.Aws;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

/// <summary>
/// A second moto with IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT): the first actions create a user and its keys
/// unauthenticated, after that every call is checked for a valid signature and an allowing policy.
/// </summary>
public sealed class AuthModeMoto : IAsyncLifetime
{
    private MotoServer _server = null!;

    public Uri Url => _server.Url;

    public BasicAWSCredentials User { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await MotoServer.StartAsync(new Dictionary<string, string> { ["INITIAL_NO_AUTH_ACTION_COUNT"] = "2" });
        await MotoServer.AwsCliAsync(Url, "iam", "create-user", "--user-name", "bob");
        var key = JsonDocument.Parse(await MotoServer.AwsCliAsync(Url, "iam", "create-access-key", "--user-name", "bob")).RootElement.GetProperty("AccessKey");
        User = new BasicAWSCredentials(key.GetProperty("AccessKeyId").GetString(), key.GetProperty("SecretAccessKey").GetString());
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}

public sealed class AuthModeTests(AuthModeMoto moto) : IClassFixture<AuthModeMoto>
{
    private readonly LogCapture _log = new();

    private AwsSession Session(AWSCredentials credentials) => AwsSession.FromCredentials(credentials, "test", new AwsOptions { MaxAttempts = 1 }, _log.Logger,
        MotoFixture.SessionEnvironment(moto.Url));

    [Fact]
    public async Task A_wrong_secret_key_is_a_signature_error_with_a_fix()
    {
        var keys = moto.User.GetCredentials();
        using var session = Session(new BasicAWSCredentials(keys.AccessKey, "not-the-secret-key-at-all"));
        var error = await Assert.ThrowsAsync<InvalidSignatureException>(() => session.Ecr.DescribeRepositoriesAsync([], TestContext.Current.CancellationToken));
        Assert.Contains("secret access key", error.Fix);
    }

    [Fact]
    public async Task An_unknown_access_key_is_unrecognized()
    {
        using var session = Session(new BasicAWSCredentials("AKIAUNKNOWNUNKNOWN00", "x"));
        await Assert.ThrowsAsync<UnrecognizedClientException>(() => session.SecretsManager.GetSecretStringAsync("tesslate/terraform/beta", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_user_without_permission_gets_AccessDenied()
    {
        using var session = Session(moto.User);
        var error = await Assert.ThrowsAsync<AccessDeniedException>(() => session.Ecr.GetAuthorizationTokenAsync(TestContext.Current.CancellationToken));
        Assert.Contains("GetAuthorizationToken", error.Problem);
    }

    [Fact]
    public async Task Sts_errors_from_the_sdk_become_the_same_typed_errors()
    {
        using var session = Session(moto.User);
        var error = await Assert.ThrowsAsync<AccessDeniedException>(() => session.Sts.AssumeRoleAsync("arn:aws:iam::123456789012:role/tesslate-beta-eks-team-admin", "bob-test", TestContext.Current.CancellationToken));
        Assert.Contains("Assuming role arn:aws:iam::123456789012:role/tesslate-beta-eks-team-admin", error.Problem);
    }
}
