using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// moto's EKS answers DescribeCluster with an endpoint nothing listens on and a random CA. A pipeline test that reaches
/// a beta or production cluster puts this proxy in front of moto (<c>AWS_ENDPOINT_URL_EKS</c>): every cluster it
/// describes then lives at the fake API server, with a real (unused over http) certificate authority.
/// </summary>
internal static class MotoEks
{
    private static readonly Lazy<string> CertificateAuthorityData = new(() =>
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=fake-eks-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(certificate.ExportCertificatePem()));
    });

    /// <summary>A proxy in front of moto whose DescribeCluster answers point at <paramref name="apiServer"/>.</summary>
    public static Task<FaultInjectingProxy> PointClustersAtAsync(Uri moto, string apiServer) =>
        FaultInjectingProxy.StartAsync(moto, failures: 0, rewrite: (path, body) => path.StartsWith("/clusters/", StringComparison.Ordinal) ? Rewrite(body, apiServer) : null);

    /// <summary>Creates the EKS cluster in moto, as Terraform would have.</summary>
    public static Task CreateClusterAsync(MotoFixture moto, string name) =>
        moto.AwsCliAsync("eks", "create-cluster", "--name", name, "--role-arn", $"arn:aws:iam::{MotoFixture.DefaultAccount}:role/eks", "--resources-vpc-config", "subnetIds=subnet-1");

    private static byte[]? Rewrite(byte[] body, string apiServer)
    {
        if (JsonNode.Parse(body)?["cluster"] is not JsonObject cluster)
            return null;
        cluster["endpoint"] = apiServer;
        cluster["certificateAuthority"] = new JsonObject { ["data"] = CertificateAuthorityData.Value };
        return Encoding.UTF8.GetBytes(cluster.Root.ToJsonString());
    }
}
