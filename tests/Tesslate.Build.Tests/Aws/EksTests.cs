using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Web;
using k8s;
using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

[Collection("moto")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class EksTests(MotoFixture moto) : MotoTests(moto)
{
    [Fact]
    public async Task DescribeCluster_returns_endpoint_and_certificate()
    {
        await Moto.AwsCliAsync("eks", "create-cluster", "--name", "tesslate-beta-eks", "--role-arn", "arn:aws:iam::123456789012:role/eks",
            "--resources-vpc-config", "subnetIds=subnet-1");
        using var session = Session();
        var cluster = await session.Eks.DescribeClusterAsync("tesslate-beta-eks", TestContext.Current.CancellationToken);
        Assert.Equal("tesslate-beta-eks", cluster.Name);
        Assert.Equal("https", cluster.Endpoint.Scheme);
        Assert.NotEmpty(cluster.CertificateAuthorityData);
        Assert.Equal("us-east-1", cluster.Region);
    }

    [Fact]
    public async Task A_cluster_missing_from_the_region_is_ResourceNotFound_naming_cluster_and_region()
    {
        using var session = Session(new AwsOptions { Region = "eu-west-1", Choices = new(Region: "--region-flag") });
        var error = await Assert.ThrowsAsync<ResourceNotFoundException>(() => session.Eks.DescribeClusterAsync("tesslate-beta-eks", TestContext.Current.CancellationToken));
        Assert.Contains("'tesslate-beta-eks'", error.Problem);
        Assert.Contains("eu-west-1", error.Problem);
        Assert.StartsWith("Check the region (--region-flag / AWS_REGION;", error.Fix);
    }

    [Fact]
    public async Task The_token_is_a_presigned_GetCallerIdentity_url_like_aws_eks_get_token()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 28, 16, 0, 0, TimeSpan.Zero));
        using var session = Session(endpoint: new Uri("https://sts.us-east-1.amazonaws.com/"));
        var tokens = session.EksTokens("tesslate-beta-eks", time);
        var token = await tokens.GetTokenAsync(TestContext.Current.CancellationToken);

        Assert.StartsWith("k8s-aws-v1.", token.Value);
        var body = token.Value["k8s-aws-v1.".Length..];
        Assert.DoesNotContain('=', body);
        Assert.DoesNotContain('+', body);
        Assert.DoesNotContain('/', body);

        var url = EksToken.Decode(token.Value);
        Assert.Equal("sts.us-east-1.amazonaws.com", url.Host);
        var query = HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("GetCallerIdentity", query["Action"]);
        Assert.Equal("2011-06-15", query["Version"]);
        Assert.Equal("AWS4-HMAC-SHA256", query["X-Amz-Algorithm"]);
        Assert.Equal("AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/sts/aws4_request", query["X-Amz-Credential"]);
        Assert.Equal("20261128T160000Z", query["X-Amz-Date"]);
        Assert.Equal("60", query["X-Amz-Expires"]);
        Assert.Equal("host;x-k8s-aws-id", query["X-Amz-SignedHeaders"]);
        Assert.Matches("^[0-9a-f]{64}$", query["X-Amz-Signature"]);
        Assert.Equal(SecretRegistry.Mask, Secrets.Redact(token.Value));
    }

    [Fact]
    public async Task The_token_is_renewed_before_its_fifteen_minute_life_ends()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 28, 16, 0, 0, TimeSpan.Zero));
        using var session = Session();
        var tokens = session.EksTokens("c", time);
        var first = await tokens.GetTokenAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.Same(first, await tokens.GetTokenAsync(TestContext.Current.CancellationToken));
        time.Advance(TimeSpan.FromMinutes(2));
        var second = await tokens.GetTokenAsync(TestContext.Current.CancellationToken);
        Assert.NotEqual(first.Value, second.Value);
        Assert.True(second.ExpiresAt - first.SignedAt < TimeSpan.FromMinutes(15 + 11));
        Assert.True(first.SignedAt + TimeSpan.FromMinutes(15) > time.GetUtcNow());
    }

    [Fact]
    public async Task The_kubernetes_client_configuration_is_built_in_memory_from_endpoint_ca_and_tokens()
    {
        var cluster = new EksCluster("c", "arn:aws:eks:us-east-1:123456789012:cluster/c", new Uri("https://127.0.0.1:6443"), SelfSignedCaData(), "ACTIVE", "1.32");
        using var session = Session();
        var config = EksKubernetesAccess.ClientConfiguration(cluster, session.EksTokens("c"));
        Assert.Equal("https://127.0.0.1:6443", config.Host);
        Assert.Single(config.SslCaCerts);
        var header = await config.TokenProvider.GetAuthenticationHeaderAsync(TestContext.Current.CancellationToken);
        Assert.Equal("Bearer", header.Scheme);
        Assert.StartsWith("k8s-aws-v1.", header.Parameter);
        using var client = new k8s.Kubernetes(config);
    }

    [Fact]
    public async Task Kubeconfig_target_adds_a_named_context_and_keeps_the_users_current_context()
    {
        var directory = Directory.CreateTempSubdirectory("kubeconfig-test-");
        try
        {
            var path = Path.Combine(directory.FullName, "config");
            await File.WriteAllTextAsync(path, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: kind
                  cluster: { server: "https://127.0.0.1:7443" }
                users:
                - name: kind
                  user: { token: abc }
                contexts:
                - name: kind
                  context: { cluster: kind, user: kind }
                current-context: kind
                """, TestContext.Current.CancellationToken);
            var cluster = new EksCluster("tesslate-beta-eks", "arn:aws:eks:us-east-1:859561299901:cluster/tesslate-beta-eks", new Uri("https://ABC.gr7.us-east-1.eks.amazonaws.com"), SelfSignedCaData(), "ACTIVE", "1.32");
            await KubeconfigContextWriter.WriteAsync(path, "tesslate-beta-eks", cluster, "us-east-1", "arn:aws:iam::859561299901:role/tesslate-beta-eks-team-admin", "tesslate", makeCurrent: false, TestContext.Current.CancellationToken);
            await KubeconfigContextWriter.WriteAsync(path, "tesslate-beta-eks", cluster, "us-east-1", "arn:aws:iam::859561299901:role/tesslate-beta-eks-team-admin", "tesslate", makeCurrent: false, TestContext.Current.CancellationToken);

            var doc = JsonDocument.Parse(await Kubectl("--kubeconfig", path, "config", "view", "-o", "json")).RootElement;
            Assert.Equal("kind", doc.GetProperty("current-context").GetString());
            Assert.Equal(["kind", "tesslate-beta-eks"], doc.GetProperty("contexts").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).Order().ToArray());
            var exec = doc.GetProperty("users").EnumerateArray().Single(u => u.GetProperty("name").GetString() == "tesslate-beta-eks").GetProperty("user").GetProperty("exec");
            Assert.Equal("aws", exec.GetProperty("command").GetString());
            Assert.Contains("--role-arn", exec.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<string> Kubectl(params string[] arguments)
    {
        var result = await new Engine.Processes.ProcessRunner(new Serilog.LoggerConfiguration().CreateLogger())
            .RunAsync(new Engine.Processes.ToolCommand("kubectl", arguments).Capturing() with { Quiet = true }, TestContext.Current.CancellationToken);
        return result.StandardOutput;
    }

    internal static string SelfSignedCaData()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=kubernetes", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return Convert.ToBase64String(Encoding.ASCII.GetBytes(certificate.ExportCertificatePem()));
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
