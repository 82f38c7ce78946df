using System.Net;
using System.Net.Sockets;
using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

/// <summary>
/// Cluster reachability as Doctor and Preflight probe it: GET /version through the in-memory EKS configuration the
/// pipeline builds (endpoint and CA from DescribeCluster, an EKS token), against the fake API server.
/// </summary>
[Collection("moto")]
public sealed class ApiServerProbeTests(MotoFixture moto) : MotoTests(moto)
{
    private const string Rejected = "give the role an access entry";
    private const string Unreachable = "check the network path";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private KubeCluster EksConnection(string url)
    {
        var cluster = new EksCluster("tesslate-beta-eks", "arn:aws:eks:us-east-1:123456789012:cluster/tesslate-beta-eks", new Uri(url), EksTests.SelfSignedCaData(), "ACTIVE", "1.32");
        return KubeCluster.Connect(EksKubernetesAccess.ClientConfiguration(cluster, Session().EksTokens(cluster.Name)), cluster.Name);
    }

    [Fact]
    public async Task The_api_server_answers_its_version_to_an_EKS_token()
    {
        await using var fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { AcceptToken = token => token.StartsWith("k8s-aws-v1.", StringComparison.Ordinal) }, Ct);
        using var cluster = EksConnection(fake.Url);

        Assert.Equal("v1.32.0-fake", await ApiServerProbe.VersionAsync(cluster, Rejected, Unreachable, TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task Credentials_the_api_server_refuses_name_the_status_and_the_access_fix()
    {
        await using var fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { AcceptToken = _ => false }, Ct);
        using var cluster = EksConnection(fake.Url);

        var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => ApiServerProbe.VersionAsync(cluster, Rejected, Unreachable, TimeSpan.FromSeconds(10), Ct));
        Assert.Contains("refused this run's credentials: GET /version answered 401", error.Problem);
        Assert.Contains(fake.Url.TrimEnd('/'), error.Problem);
        Assert.Equal(Rejected, error.Fix);
    }

    [Fact]
    public async Task An_api_server_that_is_not_listening_is_unreachable_with_the_network_fix()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var cluster = EksConnection($"http://127.0.0.1:{port}");

        var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => ApiServerProbe.VersionAsync(cluster, Rejected, Unreachable, TimeSpan.FromSeconds(10), Ct));
        Assert.Contains($"127.0.0.1:{port} cannot be reached", error.Problem);
        Assert.Equal(Unreachable, error.Fix);
    }

    [Fact]
    public async Task An_api_server_that_does_not_answer_is_given_up_on_at_the_deadline()
    {
        await using var fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions(), Ct);
        using var cluster = EksConnection(fake.Url);
        fake.BeginOutage(OutageMode.Hang);

        var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => ApiServerProbe.VersionAsync(cluster, Rejected, Unreachable, TimeSpan.FromSeconds(1), Ct));
        Assert.Contains("did not answer GET /version within 1 s", error.Problem);
        Assert.Equal(Unreachable, error.Fix);
        fake.EndOutage();
    }
}
