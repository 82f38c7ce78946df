using k8s;
using Serilog;

namespace Tesslate.Build.Kubernetes.Operations;

/// <summary>
/// <c>kubectl logs -f</c> for every pod and container of a workload at once, each line prefixed
/// <c>[pod/container]</c>. Following has no deadline: it ends when every stream ends or on cancellation (Ctrl-C),
/// which is a normal end, not an error.
/// </summary>
public sealed class PodLogs(KubeCluster cluster, ILogger logger)
{
    public async Task<int> FollowAsync(ObjectRef workload, Action<string> onLine, bool follow, int? tailLines, CancellationToken cancellationToken)
    {
        IReadOnlyList<System.Text.Json.Nodes.JsonObject> pods;
        try
        {
            var resource = await cluster.RequireAsync("apps/v1", PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind, cancellationToken);
            var obj = await cluster.GetAsync(resource, workload.Namespace, workload.Name, cancellationToken)
                ?? throw new Engine.BuildFailure($"{workload} does not exist in {cluster.DisplayName}.", "Check the name: Status lists the workloads.");
            var labels = obj["spec"]?["selector"]?["matchLabels"] as System.Text.Json.Nodes.JsonObject ?? [];
            var selector = string.Join(',', labels.Select(kv => $"{kv.Key}={(string?)kv.Value}"));
            pods = await cluster.ListAsync(await cluster.RequireAsync("v1", "Pod", cancellationToken), workload.Namespace, selector, null, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        var streams = pods.SelectMany(p => (p["spec"]?["containers"] as System.Text.Json.Nodes.JsonArray ?? []).Select(c =>
            (Pod: (string?)p["metadata"]?["name"] ?? "", Container: (string?)c?["name"] ?? ""))).ToList();
        if (streams.Count == 0)
            logger.Warning("{Workload} has no pods to read logs from", workload);
        var counts = await Task.WhenAll(streams.Select(s => StreamAsync(workload.Namespace!, s.Pod, s.Container, onLine, follow, tailLines, cancellationToken)));
        return counts.Sum();
    }

    private async Task<int> StreamAsync(string ns, string pod, string container, Action<string> onLine, bool follow, int? tailLines, CancellationToken cancellationToken)
    {
        var prefix = $"[{pod}/{container}] ";
        var count = 0;
        try
        {
            await using var stream = await cluster.Client.CoreV1.ReadNamespacedPodLogAsync(pod, ns, container: container, follow: follow, tailLines: tailLines, cancellationToken: cancellationToken);
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                onLine(prefix + line);
                count++;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (k8s.Autorest.HttpOperationException e)
        {
            logger.Warning("{Prefix}no logs: {Message}", prefix, e.Response.Content is { Length: > 0 } body ? body : e.Message);
        }
        return count;
    }
}
