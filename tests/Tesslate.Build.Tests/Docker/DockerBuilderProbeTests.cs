using Tesslate.Build.Docker;
using Tesslate.Build.Images;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed class DockerBuilderProbeTests
{
    [Fact]
    public void Buildx_inspect_output_gives_the_builder_name_and_driver()
    {
        const string output = """
            Name:          remote-amd64
            Driver:        remote
            Last Activity: 2026-01-01 10:00:00 +0000 UTC

            Nodes:
            Name:      remote-amd640
            Endpoint:  tcp://buildkit.example.com:1234
            Status:    running
            """;
        Assert.Equal(("remote-amd64", "remote"), DockerCli.ParseBuildxInspect(output));
    }

    [Theory]
    [InlineData("docker-container", false, true)]
    [InlineData("remote", false, true)]
    [InlineData("kubernetes", false, true)]
    [InlineData("docker", true, true)]
    [InlineData("docker", false, false)]
    public void Cache_export_is_on_only_for_drivers_that_can_export(string driver, bool containerd, bool canExport)
    {
        var builder = DockerCli.JudgeBuilder("b", driver, containerd, builderSetting: "--use-builder");
        Assert.Equal(canExport, builder.CanExportCache);
        Assert.Equal(canExport, builder.CacheExportOffReason is null);
        if (!canExport)
        {
            Assert.Contains("'docker' driver", builder.CacheExportOffReason);
            Assert.EndsWith("or pass --use-builder NAME)", builder.CacheExportOffReason);
        }
    }

    [Theory]
    [InlineData("error parsing HTTP 429 response body: toomanyrequests: Rate exceeded", true)]
    [InlineData("received unexpected HTTP status: 503 Service Unavailable", true)]
    [InlineData("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer", true)]
    [InlineData("denied: requested access to the resource is denied", false)]
    [InlineData("unauthorized: authentication required", false)]
    public void Docker_push_errors_are_judged_transient_or_not(string line, bool transient) =>
        Assert.Equal(transient, TransientErrors.IsTransient([line]));
}
