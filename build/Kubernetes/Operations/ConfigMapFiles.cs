using System.Text.Json.Nodes;
using Serilog;

namespace Tesslate.Build.Kubernetes.Operations;

public enum ConfigMapSyncOutcome
{
    Applied,
    DryRun,
    SourceMissing,
}

/// <summary>
/// <c>kubectl create configmap NAME --from-file=KEY=FILE --dry-run=client -o yaml | kubectl apply -f -</c>, as one
/// server-side apply: the ConfigMap's key holds exactly the file's text afterwards.
/// </summary>
public static class ConfigMapFiles
{
    /// <summary>A missing file is a warning and nothing changes (the legacy script skipped the sync the same way).</summary>
    public static async Task<ConfigMapSyncOutcome> SyncAsync(KubeCluster cluster, string ns, string name, string key, string filePath,
        ILogger logger, CancellationToken cancellationToken, bool dryRun = false, string fieldManager = FieldManagers.Pipeline)
    {
        if (!File.Exists(filePath))
        {
            logger.Warning("{File} not found: ConfigMap {Namespace}/{Name} not synced", filePath, ns, name);
            return ConfigMapSyncOutcome.SourceMissing;
        }
        var content = await File.ReadAllTextAsync(filePath, cancellationToken);
        var resource = await cluster.RequireAsync("v1", "ConfigMap", cancellationToken);
        var configMap = new KubeObject(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["data"] = new JsonObject { [key] = content },
        });
        await cluster.ApplyAsync(resource, configMap, fieldManager, force: true, dryRun, cancellationToken);
        logger.Information("{Prefix}ConfigMap {Namespace}/{Name}: {Key} ← {File} ({Bytes} bytes)", dryRun ? "[dry-run] " : "", ns, name, key, filePath, content.Length);
        return dryRun ? ConfigMapSyncOutcome.DryRun : ConfigMapSyncOutcome.Applied;
    }

    public static IReadOnlyList<PermissionRequirement> Permissions(string ns) =>
        [new("get", "", "configmaps", ns), new("create", "", "configmaps", ns), new("patch", "", "configmaps", ns)];
}
