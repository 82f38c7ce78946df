using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Serilog;

namespace Tesslate.Build.Kubernetes.Operations;

/// <summary>
/// <c>kubectl logs -f</c> for every pod and container of a workload at once, each line prefixed
/// <c>[pod/container]</c>. Following watches the workload's pods: a pod that appears later is followed once its
/// containers start, a pod that goes away stops being followed. It has no deadline: it ends on cancellation (Ctrl-C),
/// which is a normal end, not an error. Without <c>follow</c> it reads the current pods' logs once.
/// </summary>
/// <param name="listWorkloads">How the caller's user lists the workloads (the pipeline: its Status target), for the fix of a wrong name.</param>
public sealed class PodLogs(KubeCluster cluster, ILogger logger, string? listWorkloads = null)
{
    private readonly ILogger _logger = logger;

    private static readonly TimeSpan WatchTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RewatchDelay = TimeSpan.FromSeconds(2);

    /// <summary>The containers of <paramref name="pod"/> that have logs to read: running, or already terminated.</summary>
    public static IReadOnlyList<string> StartedContainers(V1Pod pod) =>
        [.. (pod.Status?.ContainerStatuses ?? []).Where(s => s.State?.Running is not null || s.State?.Terminated is not null).Select(s => s.Name)];

    public async Task<int> FollowAsync(ObjectRef workload, Action<string> onLine, bool follow, int? tailLines, CancellationToken cancellationToken)
    {
        var streams = new PodStreams(this, workload.Namespace!, onLine, follow, tailLines, cancellationToken);
        try
        {
            var selector = await SelectorAsync(workload, cancellationToken);
            var pods = await cluster.Client.CoreV1.ListNamespacedPodAsync(workload.Namespace, labelSelector: selector, cancellationToken: cancellationToken);
            if (pods.Items.Count == 0)
                _logger.Warning("{Workload} has no pods to read logs from{Yet}", workload, follow ? " yet: following the pods that start" : "");
            foreach (var pod in pods.Items)
                streams.Follow(pod);
            if (follow)
                await WatchPodsAsync(workload.Namespace!, selector, pods.Metadata.ResourceVersion, streams, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        return await streams.CompletedAsync();
    }

    private async Task<string> SelectorAsync(ObjectRef workload, CancellationToken cancellationToken)
    {
        var resource = await cluster.RequireAsync("apps/v1", PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind, cancellationToken);
        var obj = await cluster.GetAsync(resource, workload.Namespace, workload.Name, cancellationToken)
            ?? throw new Engine.BuildFailure($"{workload} does not exist in {cluster.DisplayName}.",
                listWorkloads is null ? "Check the name." : $"Check the name: {listWorkloads} lists the workloads.");
        var labels = obj["spec"]?["selector"]?["matchLabels"] as JsonObject ?? [];
        return string.Join(',', labels.Select(kv => $"{kv.Key}={(string?)kv.Value}"));
    }

    /// <summary>Until cancelled: pod events start and stop streams; a watch that ends or breaks is resumed (relisting after 410 Gone).</summary>
    private async Task WatchPodsAsync(string ns, string selector, string? resourceVersion, PodStreams streams, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                Exception? error = null;
                await foreach (var (type, pod) in cluster.Client.CoreV1.WatchListNamespacedPodAsync(ns, labelSelector: selector, resourceVersion: resourceVersion,
                    timeoutSeconds: (int)WatchTimeout.TotalSeconds, onError: e => error = e, cancellationToken: cancellationToken))
                {
                    resourceVersion = pod.Metadata.ResourceVersion;
                    if (type == WatchEventType.Deleted)
                        streams.Stop(pod);
                    else
                        streams.Follow(pod);
                }
                if (error is not null)
                    throw error;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                _logger.Debug("Pod watch of {Namespace} ended ({Message}); resuming", ns, e.Message);
                // From scratch: the version may be gone (410), and a fresh list resends the pods as ADDED (already followed ones are kept).
                resourceVersion = null;
                await Task.Delay(RewatchDelay, cancellationToken);
            }
        }
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
            _logger.Warning("{Prefix}no logs: {Message}", prefix, e.Response.Content is { Length: > 0 } body ? body : e.Message);
        }
        return count;
    }

    /// <summary>The open streams by pod: each started container is followed once; a pod's streams stop when it goes away.</summary>
    private sealed class PodStreams(PodLogs logs, string ns, Action<string> onLine, bool follow, int? tailLines, CancellationToken cancellationToken)
    {
        private readonly Dictionary<string, (CancellationTokenSource Stop, HashSet<string> Containers)> _pods = [];
        private readonly List<CancellationTokenSource> _stops = [];
        private readonly List<Task<int>> _streams = [];

        public void Follow(V1Pod pod)
        {
            var name = pod.Metadata.Name;
            if (!_pods.TryGetValue(name, out var followed))
            {
                _pods[name] = followed = (CancellationTokenSource.CreateLinkedTokenSource(cancellationToken), []);
                _stops.Add(followed.Stop);
            }
            foreach (var container in StartedContainers(pod).Where(followed.Containers.Add))
                _streams.Add(logs.StreamAsync(ns, name, container, onLine, follow, tailLines, followed.Stop.Token));
        }

        public void Stop(V1Pod pod)
        {
            if (!_pods.Remove(pod.Metadata.Name, out var followed))
                return;
            logs._logger.Information("[{Pod:l}] gone: no longer followed", pod.Metadata.Name);
            followed.Stop.Cancel();
        }

        public async Task<int> CompletedAsync()
        {
            var total = (await Task.WhenAll(_streams)).Sum();
            foreach (var stop in _stops)
                stop.Dispose();
            return total;
        }
    }
}
