using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.KubeConfigModels;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Aws;

/// <summary>
/// Kubernetes access to an EKS cluster for this run only: an in-memory KubernetesClient configuration. It neither reads nor
/// writes ~/.kube/config or the user's current context (no target runs kubectl against a cluster).
/// </summary>
public static class EksKubernetesAccess
{
    /// <summary>Host and CA from DescribeCluster, bearer tokens from <paramref name="tokens"/> (renewed as they age).</summary>
    public static KubernetesClientConfiguration ClientConfiguration(EksCluster cluster, EksTokenSource tokens) => new()
    {
        Host = cluster.Endpoint.ToString().TrimEnd('/'),
        SslCaCerts = CertificateAuthority(cluster.CertificateAuthorityData),
        TokenProvider = tokens,
    };

    /// <summary>The cluster CA from DescribeCluster's base64 PEM.</summary>
    public static X509Certificate2Collection CertificateAuthority(string certificateAuthorityData)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(Encoding.UTF8.GetString(Convert.FromBase64String(certificateAuthorityData)));
        }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException)
        {
            throw new BuildFailure("The cluster's certificate authority data is not a base64 PEM certificate.", "Check DescribeCluster's certificateAuthority.data for this cluster.", e);
        }
        if (collection.Count == 0)
            throw new BuildFailure("The cluster's certificate authority data holds no certificate.", "Check DescribeCluster's certificateAuthority.data for this cluster.");
        return collection;
    }
}

/// <summary>
/// Writes one named context into a kubeconfig the user chose (the <c>Kubeconfig</c> target, only when asked), like
/// <c>aws eks update-kubeconfig --alias</c> but without switching the current context unless told to. Authentication is
/// the aws CLI's exec plugin, so the file holds no token.
/// </summary>
public static class KubeconfigContextWriter
{
    public static async Task WriteAsync(string kubeconfigPath, string contextName, EksCluster cluster, string region,
        string? roleArn, string? profile, bool makeCurrent, CancellationToken cancellationToken)
    {
        var file = new FileInfo(kubeconfigPath);
        var config = file.Exists && file.Length > 0
            ? await KubernetesClientConfiguration.LoadKubeConfigAsync(file)
            : new K8SConfiguration { ApiVersion = "v1", Kind = "Config" };

        var arguments = new List<string> { "--region", region, "eks", "get-token", "--cluster-name", cluster.Name, "--output", "json" };
        if (roleArn is not null)
            arguments.AddRange(["--role-arn", roleArn]);
        var exec = new ExternalExecution { ApiVersion = "client.authentication.k8s.io/v1beta1", Command = "aws", Arguments = arguments };
        if (profile is not null)
            exec.EnvironmentVariables = [new Dictionary<string, string> { ["name"] = "AWS_PROFILE", ["value"] = profile }];

        config.Clusters = Replace(config.Clusters, c => c.Name == contextName, new Cluster
        {
            Name = contextName,
            ClusterEndpoint = new ClusterEndpoint { Server = cluster.Endpoint.ToString().TrimEnd('/'), CertificateAuthorityData = cluster.CertificateAuthorityData },
        });
        config.Users = Replace(config.Users, u => u.Name == contextName, new User { Name = contextName, UserCredentials = new UserCredentials { ExternalExecution = exec } });
        config.Contexts = Replace(config.Contexts, c => c.Name == contextName, new Context { Name = contextName, ContextDetails = new ContextDetails { Cluster = contextName, User = contextName } });
        if (makeCurrent || string.IsNullOrEmpty(config.CurrentContext))
            config.CurrentContext = contextName;

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(kubeconfigPath))!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows() && !file.Exists)
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using var stream = new FileStream(kubeconfigPath, options);
        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync(KubernetesYaml.Serialize(config));
    }

    private static List<T> Replace<T>(IEnumerable<T>? items, Func<T, bool> same, T replacement) =>
        [.. (items ?? []).Where(i => !same(i)), replacement];
}
