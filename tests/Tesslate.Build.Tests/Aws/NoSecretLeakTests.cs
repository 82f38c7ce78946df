using Tesslate.Build.Aws;
using Tesslate.Build.Docker;
using Tesslate.Build.Engine;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

[Collection("moto")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NoSecretLeakTests(MotoFixture moto) : MotoTests(moto)
{
    [Fact]
    public async Task No_password_session_token_or_bearer_token_reaches_logs_errors_or_command_lines()
    {
        var ct = TestContext.Current.CancellationToken;
        using var caller = Session();
        var secrets = new List<string>();
        var captured = new List<string>();

        var auth = await new EcrCredentials(caller.Ecr).GetAsync(ct);
        secrets.AddRange([auth.Password, auth.BasicCredential]);
        captured.Add(auth.ToString());
        var login = DockerLogin.Command("127.0.0.1:1", auth.Username, auth.Password);
        captured.Add(login.Display);

        var role = await caller.Sts.AssumeRoleAsync("arn:aws:iam::859561299901:role/tesslate-beta-eks-team-admin", "leak-test", ct);
        var keys = await role.Credentials.GetCredentialsAsync();
        secrets.AddRange([keys.SecretKey, keys.Token]);
        captured.Add(role.ToString());
        using var asRole = caller.WithRole(role);

        var token = await asRole.EksTokens("tesslate-beta-eks").GetTokenAsync(ct);
        secrets.Add(token.Value);
        captured.Add(token.ToString());


        var failure = await Assert.ThrowsAsync<ResourceNotFoundException>(() => asRole.Eks.DescribeClusterAsync("tesslate-beta-eks", ct));
        captured.Add(failure.ToString());

        captured.AddRange(Log.Lines);
        foreach (var secret in secrets)
        {
            Assert.Equal(SecretRegistry.Mask, Secrets.Redact(secret));
            foreach (var text in captured)
                Assert.DoesNotContain(secret, text);
        }
    }
}
