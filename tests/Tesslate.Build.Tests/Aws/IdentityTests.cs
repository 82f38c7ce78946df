using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.Platform;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

[Collection("moto")]
public sealed class IdentityTests(MotoFixture moto) : MotoTests(moto)
{
    private const string Beta = "859561299901";
    [Fact]
    public async Task GetCallerIdentity_reports_the_emulators_account()
    {
        using var session = Session();
        var identity = await session.Sts.GetCallerIdentityAsync(TestContext.Current.CancellationToken);
        Assert.Equal(MotoFixture.DefaultAccount, identity.Account);
        Assert.StartsWith("arn:aws:", identity.Arn);
    }

    [Fact]
    public async Task A_wrong_account_stops_the_preflight_naming_both_accounts_and_the_profile()
    {
        using var session = Session(new AwsOptions { Profile = "tesslate-dev" });
        var error = await Assert.ThrowsAsync<BuildFailure>(() =>
            IdentityPreflight.RunAsync(session, Beta, [], [], Log.Logger, TestContext.Current.CancellationToken));
        Assert.Contains(MotoFixture.DefaultAccount, error.Problem);
        Assert.Contains(Beta, error.Problem);
        Assert.Contains("tesslate-dev", error.Problem);
        Assert.Contains(Beta, error.Fix);
    }

    [Fact]
    public async Task Credentials_of_the_right_account_pass_and_the_cheap_reads_are_listed()
    {
        var ct = TestContext.Current.CancellationToken;
        using var caller = Session();
        // moto's multi-account mode: credentials from AssumeRole into another account act in that account.
        var role = await caller.Sts.AssumeRoleAsync($"arn:aws:iam::{Beta}:role/preflight", "preflight-test", ct);
        using var session = caller.WithRole(role);
        await session.Ecr.DescribeRepositoriesAsync([], ct);
        await MotoServer.AwsCliAsync(Moto.Url, "ecr", "create-repository", "--repository-name", "tesslate-backend");
        var report = await IdentityPreflight.RunAsync(caller, MotoFixture.DefaultAccount, ["tesslate-backend"], [], Log.Logger, ct);
        Assert.Contains(report.Checked, c => c.Contains("tesslate-backend", StringComparison.Ordinal));

        var identity = await session.Sts.GetCallerIdentityAsync(ct);
        IdentityPreflight.VerifyAccount(identity, Beta, null, session.CredentialSource);
        Assert.Equal(Beta, identity.Account);
    }

    [Fact]
    public async Task Preflight_fails_on_a_missing_repository_before_any_side_effect()
    {
        using var session = Session();
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() =>
            IdentityPreflight.RunAsync(session, MotoFixture.DefaultAccount, ["tesslate-nope"], [], Log.Logger, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("observer")]
    [InlineData("deployer")]
    [InlineData("debugger")]
    [InlineData("admin")]
    [InlineData("eks-deployer")]
    public async Task Each_team_role_is_assumed_with_a_session_name_saying_who_and_when(string roleName)
    {
        var ct = TestContext.Current.CancellationToken;
        var role = TeamRoles.Resolve("beta", Beta, roleName, null);
        using var caller = Session();
        var sessionName = RoleSessionName.Create("jane", new DateTimeOffset(2026, 11, 28, 16, 0, 0, TimeSpan.Zero));
        var assumed = await caller.Sts.AssumeRoleAsync(role.Arn, sessionName, ct);
        using var asRole = caller.WithRole(assumed);
        var identity = await asRole.Sts.GetCallerIdentityAsync(ct);

        var roleResource = role.Arn.Split('/').Last();
        Assert.Equal($"arn:aws:sts::{Beta}:assumed-role/{roleResource}/jane-20261128T160000Z", identity.Arn);
        Assert.Equal($"arn:aws:sts::{Beta}:assumed-role/{roleResource}/jane-20261128T160000Z", assumed.AssumedRoleArn);
        Assert.True(assumed.Expiration > DateTimeOffset.UtcNow.AddMinutes(30));
        var keys = await assumed.Credentials.GetCredentialsAsync();
        Assert.Equal(SecretRegistry.Mask, Secrets.Redact(keys.Token));
    }
}
