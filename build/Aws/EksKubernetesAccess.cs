using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.KubeConfigModels;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Aws;

/// <summary>
/// Kubernetes access to an EKS cluster for this run only: an in-memory KubernetesClient configuration, and for targets that
/// must run kubectl a private kubeconfig. Neither reads nor writes ~/.kube/config or the user's current context.
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
/// A kubeconfig only this run uses: 0600 file in a 0700 temp directory, one cluster/user/context with an explicit context name,
/// the bearer token in a separate 0600 token file (kubectl re-reads <c>tokenFile</c>, so renewals reach long kubectl calls).
/// Deleted on dispose. Pass <see cref="Path"/> as KUBECONFIG or --kubeconfig, and <see cref="ContextName"/> as --context.
/// </summary>
public sealed class PrivateKubeconfig : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan RenewEvery = TimeSpan.FromMinutes(4);
    private readonly string _directory;
    private readonly string _tokenPath;
    private readonly EksTokenSource _tokens;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewal;

    private PrivateKubeconfig(string directory, string contextName, EksTokenSource tokens, ILogger logger)
    {
        _directory = directory;
        _tokens = tokens;
        _logger = logger;
        ContextName = contextName;
        Path = System.IO.Path.Combine(directory, "config");
        _tokenPath = System.IO.Path.Combine(directory, "token");
        _renewal = RenewLoopAsync(_stop.Token);
    }

    public string Path { get; }

    public string ContextName { get; }

    public static async Task<PrivateKubeconfig> CreateAsync(EksCluster cluster, EksTokenSource tokens, string contextName, ILogger logger, CancellationToken cancellationToken)
    {
        var directory = TemporarySecretFiles.CreateDirectory("kube");
        try
        {
            var tokenPath = System.IO.Path.Combine(directory, "token");
            await TemporarySecretFiles.WriteAsync(tokenPath, (await tokens.GetTokenAsync(cancellationToken)).Value, cancellationToken);
            await TemporarySecretFiles.WriteAsync(System.IO.Path.Combine(directory, "config"), Render(cluster, contextName, tokenPath), cancellationToken);
            return new PrivateKubeconfig(directory, contextName, tokens, logger);
        }
        catch
        {
            TemporarySecretFiles.Delete(directory);
            throw;
        }
    }

    /// <summary>Makes sure the token file holds a fresh token; call before a kubectl command (it is also renewed in the background).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken) =>
        await TemporarySecretFiles.WriteAsync(_tokenPath, (await _tokens.GetTokenAsync(cancellationToken)).Value, cancellationToken);

    /// <summary>The kubeconfig document (JSON is valid YAML, and kubectl reads it).</summary>
    internal static string Render(EksCluster cluster, string contextName, string tokenPath) => new JsonObject
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Config",
        ["clusters"] = new JsonArray(new JsonObject
        {
            ["name"] = contextName,
            ["cluster"] = new JsonObject { ["server"] = cluster.Endpoint.ToString().TrimEnd('/'), ["certificate-authority-data"] = cluster.CertificateAuthorityData },
        }),
        ["users"] = new JsonArray(new JsonObject { ["name"] = contextName, ["user"] = new JsonObject { ["tokenFile"] = tokenPath } }),
        ["contexts"] = new JsonArray(new JsonObject { ["name"] = contextName, ["context"] = new JsonObject { ["cluster"] = contextName, ["user"] = contextName } }),
        ["current-context"] = contextName,
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private async Task RenewLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(RenewEvery);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await RefreshAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.Warning("Could not renew the EKS token for {Context}: {Message}", ContextName, e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewal;
        Delete();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _renewal.GetAwaiter().GetResult();
        Delete();
    }

    private void Delete()
    {
        TemporarySecretFiles.Delete(_directory);
        _stop.Dispose();
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
