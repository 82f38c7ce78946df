using Tesslate.Build.Aws;
using Tesslate.Build.Docker;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

/// <summary>
/// ECR credentials from moto, <c>docker login --password-stdin</c> into a real htpasswd registry (the --registry case).
/// The docker CLI logs in client-side when no engine answers, so no engine is needed.
/// </summary>
[Collection("moto")]
public sealed class EcrLoginTests(MotoFixture moto, AuthenticatedRegistryFixture registry) : MotoTests(moto), IClassFixture<AuthenticatedRegistryFixture>
{
    private readonly DirectoryInfo _dockerConfig = Directory.CreateTempSubdirectory("tesslate-docker-config-");

    public override ValueTask DisposeAsync()
    {
        _dockerConfig.Delete(recursive: true);
        return base.DisposeAsync();
    }

    [Fact]
    public async Task Docker_logs_in_with_the_ecr_token_through_stdin_never_argv()
    {
        var ct = TestContext.Current.CancellationToken;
        using var session = Session();
        var auth = await new EcrCredentials(session.Ecr).GetAsync(ct);
        var command = DockerLogin.Command(registry.Registry, auth.Username, auth.Password, _dockerConfig.FullName);
        Assert.DoesNotContain(auth.Password, string.Join(' ', command.Arguments));
        Assert.Equal(auth.Password, command.StandardInput);

        await DockerLogin.LoginAsync(new ProcessRunner(Log.Logger), registry.Registry, auth.Username, auth.Password, ct, _dockerConfig.FullName);

        var config = await File.ReadAllTextAsync(Path.Combine(_dockerConfig.FullName, "config.json"), ct);
        Assert.Contains(registry.Registry, config);
        Assert.Contains(auth.BasicCredential, config);
        Assert.DoesNotContain(auth.Password, Log.Text);
    }

    [Fact]
    public async Task A_rejected_login_is_a_build_failure_naming_the_registry()
    {
        var error = await Assert.ThrowsAsync<BuildFailure>(() => DockerLogin.LoginAsync(new ProcessRunner(Log.Logger), registry.Registry, "AWS",
            "definitely-wrong-password", TestContext.Current.CancellationToken, _dockerConfig.FullName));
        Assert.Contains(registry.Registry, error.Problem);
        Assert.DoesNotContain("definitely-wrong-password", error.ToString());
        Assert.DoesNotContain("definitely-wrong-password", Log.Text);
    }
}
