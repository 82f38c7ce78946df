using System.Text.Json.Nodes;
using k8s;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes.Operations;

public sealed record ExecResult(string Pod, int ExitCode, string StandardOutput, string StandardError)
{
    public IEnumerable<string> Lines => (StandardOutput + "\n" + StandardError).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0);
}

/// <summary><c>kubectl exec</c> through the API: a command in a Ready pod of a workload, output captured.</summary>
public static class PodExec
{
    /// <summary>A Running pod of the workload whose Ready condition is True (newest first).</summary>
    public static async Task<string> FindReadyPodAsync(KubeCluster cluster, ObjectRef workload, CancellationToken cancellationToken)
    {
        var resource = await cluster.RequireAsync("apps/v1", PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind, cancellationToken);
        var obj = await cluster.GetAsync(resource, workload.Namespace, workload.Name, cancellationToken)
            ?? throw new BuildFailure($"{workload} does not exist in {cluster.DisplayName}.", "Deploy it first, or check the environment.");
        var labels = obj["spec"]?["selector"]?["matchLabels"] as JsonObject ?? [];
        var selector = string.Join(',', labels.Select(kv => $"{kv.Key}={(string?)kv.Value}"));
        var pods = await cluster.ListAsync(await cluster.RequireAsync("v1", "Pod", cancellationToken), workload.Namespace, selector, null, cancellationToken);
        var ready = pods
            .Where(p => (string?)p["status"]?["phase"] == "Running" && p["metadata"]?["deletionTimestamp"] is null
                && (p["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().Any(c => (string?)c["type"] == "Ready" && (string?)c["status"] == "True"))
            .OrderByDescending(p => (string?)p["metadata"]?["creationTimestamp"], StringComparer.Ordinal)
            .Select(p => (string?)p["metadata"]?["name"])
            .FirstOrDefault();
        return ready ?? throw new BuildFailure($"{workload} has no Ready pod ({pods.Count} pod(s) in total).",
            $"Wait for its rollout (WaitRollout), or look at its pods: kubectl get pods -n {workload.Namespace} -l {selector}");
    }

    /// <summary>Runs the command (argument list, no shell) and returns its exit code and output; a deadline bounds it.</summary>
    public static async Task<ExecResult> RunAsync(KubeCluster cluster, string ns, string pod, string? container, IReadOnlyList<string> command,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        string stdout = "", stderr = "";
        try
        {
            var exitCode = await cluster.Client.NamespacedPodExecAsync(pod, ns, container, command, tty: false, async (_, output, error) =>
            {
                using var outReader = new StreamReader(output);
                using var errReader = new StreamReader(error);
                var outTask = outReader.ReadToEndAsync(deadline.Token);
                var errTask = errReader.ReadToEndAsync(deadline.Token);
                stdout = await outTask;
                stderr = await errTask;
            }, deadline.Token);
            return new ExecResult(pod, exitCode, stdout, stderr);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BuildFailure($"'{string.Join(' ', command)}' in pod {ns}/{pod} did not finish within {Durations.Format(timeout)}.",
                "It may still be running in the pod: check its logs before running it again.");
        }
    }
}
