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
    /// <summary>Runs the command (argument list, no shell) and returns its exit code and output; a deadline bounds it.</summary>
    public static async Task<ExecResult> RunAsync(KubeCluster cluster, string ns, string pod, string? container, IReadOnlyList<string> command,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        await cluster.BeforeChangeAsync($"exec {string.Join(' ', command)} in pod {ns}/{pod}", cancellationToken);
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
