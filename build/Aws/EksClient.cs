using System.Text.Json;

namespace Tesslate.Build.Aws;

/// <summary>What DescribeCluster says about a cluster: enough to talk to its API server.</summary>
public sealed record EksCluster(string Name, string Arn, Uri Endpoint, string CertificateAuthorityData, string Status, string? Version)
{
    public string Region => Arn.Split(':') is { Length: > 3 } parts ? parts[3] : string.Empty;
}

/// <summary>EKS over REST-JSON: only DescribeCluster.</summary>
public sealed class EksClient
{
    private readonly AwsHttpTransport _transport;
    private readonly string _region;
    private readonly AwsChoices _choices;

    internal EksClient(AwsHttpTransport transport, string region, AwsChoices choices)
    {
        _transport = transport;
        _region = region;
        _choices = choices;
    }

    public async Task<EksCluster> DescribeClusterAsync(string name, CancellationToken cancellationToken)
    {
        JsonElement result;
        try
        {
            result = await _transport.SendAsync(new AwsCall(AwsService.Eks, "DescribeCluster", HttpMethod.Get, "/clusters/" + Uri.EscapeDataString(name)), cancellationToken);
        }
        catch (ResourceNotFoundException e)
        {
            throw new ResourceNotFoundException(e.Error, $"EKS cluster '{name}' was not found in region {_region} ({e.Error.Message}).",
                $"Check the region ({AwsChoices.Or(_choices.Region, "AWS_REGION")}; the cluster lives in one region) and the account of the credentials in use.");
        }
        var cluster = result.GetProperty("cluster");
        var endpoint = cluster.TryGetProperty("endpoint", out var e1) ? e1.GetString() : null;
        var ca = cluster.TryGetProperty("certificateAuthority", out var c) && c.TryGetProperty("data", out var d) ? d.GetString() : null;
        var status = cluster.TryGetProperty("status", out var s) ? s.GetString() ?? "UNKNOWN" : "UNKNOWN";
        if (string.IsNullOrEmpty(endpoint) || string.IsNullOrEmpty(ca))
            throw new Engine.BuildFailure($"EKS cluster '{name}' has no API endpoint or certificate yet (status {status}).",
                "Wait until the cluster is ACTIVE (Terraform creates it), then rerun.");
        return new EksCluster(name, cluster.GetProperty("arn").GetString()!, new Uri(endpoint), ca, status,
            cluster.TryGetProperty("version", out var v) ? v.GetString() : null);
    }
}
