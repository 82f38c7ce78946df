using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary><c>--seed-failure</c>: what a failed one-off command does to the run.</summary>
public enum CommandFailurePolicy
{
    /// <summary>A warning in the summary (and a GitHub annotation); the run succeeds.</summary>
    Warn,

    /// <summary>The run fails.</summary>
    Fail,
}

public enum PodCommandOutcome
{
    Succeeded,

    /// <summary>The command ran and exited non-zero.</summary>
    NonZeroExit,

    /// <summary>The command did not finish within its timeout.</summary>
    TimedOut,

    /// <summary>The exec connection failed or ended without an exit status.</summary>
    TransportError,

    /// <summary>The deployment has no Ready pod of its current ReplicaSet to run in.</summary>
    NoReadyPod,
}

/// <summary>A one-off command's result, for the run report. <see cref="IsWarning"/>: failed under the Warn policy.</summary>
public sealed record PodCommandResult(string Name, PodCommandOutcome Outcome, int? ExitCode, string? Pod, TimeSpan Duration, string Message, bool IsWarning)
{
    public bool Succeeded => Outcome == PodCommandOutcome.Succeeded;
}

/// <summary>A command to run in a Ready pod of a Deployment's current ReplicaSet.</summary>
public sealed record PodCommand(string Name, string Namespace, string Deployment, IReadOnlyList<string> Command)
{
    /// <summary>The container to exec in; null: the pod's first container.</summary>
    public string? Container { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    public CommandFailurePolicy OnFailure { get; init; } = CommandFailurePolicy.Warn;

    /// <summary>How the caller's user sets <see cref="Timeout"/> (the pipeline: <c>--seed-timeout</c>), for the messages.</summary>
    public string TimeoutSetting { get; init; } = "the timeout";

    /// <summary>How the caller's user asks for <see cref="CommandFailurePolicy.Warn"/> instead (the pipeline: <c>--seed-failure warn</c>); null: not offered.</summary>
    public string? WarnSetting { get; init; }

    public string CommandLine => string.Join(' ', Command);
}

/// <summary>Pure judgement of a command's outcome under a policy.</summary>
public static class PodCommandJudge
{
    /// <summary>Validates a timeout given by the user; <paramref name="parameter"/> names how it was given.</summary>
    public static void ValidateTimeout(TimeSpan timeout, string parameter)
    {
        if (timeout <= TimeSpan.Zero)
            throw new UsageException($"{parameter} must be longer than zero (got {Durations.Format(timeout)}).", $"Give a duration such as {parameter} 10m.");
    }

    public static PodCommandResult Judge(PodCommand command, PodCommandOutcome outcome, int? exitCode, string? pod, TimeSpan duration, string? detail = null)
    {
        var what = $"{command.Name} ({command.CommandLine}{(pod is null ? "" : $" in pod {pod}")})";
        var message = outcome switch
        {
            PodCommandOutcome.Succeeded => $"{what} succeeded",
            PodCommandOutcome.NonZeroExit => $"{what} exited with code {exitCode}",
            PodCommandOutcome.TimedOut => $"{what} did not finish within {Durations.Format(command.Timeout)}",
            PodCommandOutcome.TransportError => $"{what} lost its connection to the cluster: {detail}",
            PodCommandOutcome.NoReadyPod => $"{what} could not run: {detail}",
            _ => what,
        };
        return new PodCommandResult(command.Name, outcome, exitCode, pod, duration, message,
            IsWarning: outcome != PodCommandOutcome.Succeeded && command.OnFailure == CommandFailurePolicy.Warn);
    }

    /// <summary>Under Fail, a failed result becomes a BuildFailure; under Warn it is returned for the summary.</summary>
    public static PodCommandResult Enforce(PodCommand command, PodCommandResult result)
    {
        if (result.Succeeded || command.OnFailure == CommandFailurePolicy.Warn)
            return result;
        var fix = result.Outcome switch
        {
            PodCommandOutcome.NonZeroExit => $"Read the output above; run it again by hand with kubectl exec -n {command.Namespace} deploy/{command.Deployment} -- {command.CommandLine}.",
            PodCommandOutcome.TimedOut => $"Find out why it hangs (the output above), or give it longer with {command.TimeoutSetting}.",
            PodCommandOutcome.NoReadyPod => $"Check the pods of deployment {command.Deployment} (kubectl get pods -n {command.Namespace}).",
            _ => "Check connectivity to the cluster and run the step again.",
        };
        throw new BuildFailure(result.Message, command.WarnSetting is null ? fix : $"{fix} (Use {command.WarnSetting} to only warn.)");
    }
}

/// <summary>
/// Runs a one-off command (e.g. a seed script) in a Ready pod of the Deployment's current ReplicaSet, found by the
/// pod-template-hash of the ReplicaSet whose revision is the Deployment's, so it runs the new version, never an old
/// pod that is shutting down. Exec goes through the API (WebSocket); output is streamed to the log; the exit code
/// comes from the status channel.
/// </summary>
/// <param name="gate">Asked before the command runs (a command in a pod is a change; exec does not pass the cluster's HTTP gate).</param>
public sealed class PodCommandRunner(IKubernetes client, ILogger logger, ChangeGate? gate = null)
{
    public async Task<PodCommandResult> RunAsync(PodCommand command, CancellationToken cancellationToken)
    {
        PodCommandJudge.ValidateTimeout(command.Timeout, command.TimeoutSetting);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        V1Pod? pod;
        try
        {
            pod = await FindReadyPodAsync(command.Namespace, command.Deployment, cancellationToken);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
        {
            return Finish(command, PodCommandJudge.Judge(command, PodCommandOutcome.TransportError, null, null, clock.Elapsed, Secrets.Redact(e.Message)));
        }
        if (pod is null)
            return Finish(command, PodCommandJudge.Judge(command, PodCommandOutcome.NoReadyPod, null, null, clock.Elapsed,
                $"deployment {command.Namespace}/{command.Deployment} has no Ready pod of its current ReplicaSet"));

        var podName = pod.Metadata.Name;
        var container = command.Container ?? pod.Spec.Containers[0].Name;
        if (gate is not null)
            await gate($"exec {command.CommandLine} in pod {command.Namespace}/{podName}", cancellationToken);
        logger.Information("[{Name}] {Command} in pod {Pod} (container {Container}, timeout {Timeout})", command.Name, command.CommandLine, podName, container, Durations.Format(command.Timeout));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(command.Timeout);
        try
        {
            var (exitCode, error) = await ExecAsync(podName, command, container, timeout.Token);
            if (exitCode is null)
                return Finish(command, PodCommandJudge.Judge(command, PodCommandOutcome.TransportError, null, podName, clock.Elapsed, error));
            return Finish(command, PodCommandJudge.Judge(command, exitCode == 0 ? PodCommandOutcome.Succeeded : PodCommandOutcome.NonZeroExit, exitCode, podName, clock.Elapsed));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception) when (timeout.IsCancellationRequested)
        {
            return Finish(command, PodCommandJudge.Judge(command, PodCommandOutcome.TimedOut, null, podName, clock.Elapsed));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A handshake refused, a socket error: the command's fate is unknown.
            return Finish(command, PodCommandJudge.Judge(command, PodCommandOutcome.TransportError, null, podName, clock.Elapsed, Secrets.Redact(e.Message)));
        }
    }

    /// <summary>
    /// Exec over the API's WebSocket: stdout/stderr to the log, the exit code from the status channel (3). Null exit
    /// code: the connection ended without a status. The demuxer's reads do not observe cancellation, so the timeout
    /// and a closed connection end the wait by disposing it.
    /// </summary>
    private async Task<(int? ExitCode, string? Error)> ExecAsync(string pod, PodCommand command, string container, CancellationToken cancellationToken)
    {
        using var demuxer = await client.MuxedStreamNamespacedPodExecAsync(pod, command.Namespace, command.Command, container,
            stderr: true, stdin: false, stdout: true, tty: false, cancellationToken: cancellationToken);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (demuxer is StreamDemuxer events)
            events.ConnectionClosed += (_, _) => closed.TrySetResult();
        var stdout = demuxer.GetStream(ChannelIndex.StdOut, null);
        var stderr = demuxer.GetStream(ChannelIndex.StdErr, null);
        var status = demuxer.GetStream(ChannelIndex.Error, null);
        demuxer.Start();
        var output = Task.Run(() => Task.WhenAll(
            StreamAsync(stdout, line => logger.Information("[{Name}] {Line}", command.Name, Secrets.Redact(line))),
            StreamAsync(stderr, line => logger.Warning("[{Name}] {Line}", command.Name, Secrets.Redact(line)))), CancellationToken.None);
        var statusText = Task.Run(async () =>
        {
            using var reader = new StreamReader(status);
            return await reader.ReadToEndAsync(CancellationToken.None);
        }, CancellationToken.None);
        using var stop = cancellationToken.Register(() => closed.TrySetCanceled(cancellationToken));
        await Task.WhenAny(statusText, closed.Task);
        if (closed.Task.IsCanceled)
            throw new OperationCanceledException(cancellationToken);
        if (!statusText.IsCompleted)
            // The status frame comes before the close: give the demuxer a moment to hand it over.
            await Task.WhenAny(statusText, Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None));
        await Task.WhenAny(output, Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None));
        var text = statusText.IsCompletedSuccessfully ? statusText.Result : "";
        if (string.IsNullOrWhiteSpace(text))
            return (null, "the exec connection closed without an exit status");
        var result = KubernetesJson.Deserialize<V1Status>(text);
        if (result.Status == "Success")
            return (0, null);
        var code = result.Details?.Causes?.FirstOrDefault(c => c.Reason == "ExitCode")?.Message;
        return int.TryParse(code, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var exit)
            ? (exit, null)
            : (null, Secrets.Redact(result.Message ?? text));
    }

    private PodCommandResult Finish(PodCommand command, PodCommandResult result)
    {
        if (result.Succeeded)
            logger.Information("[{Name}] ✓ {Message} ({Duration})", command.Name, result.Message, Durations.Format(result.Duration));
        else if (result.IsWarning)
            logger.Warning("[{Name}] {Message}", command.Name, result.Message);
        else
            logger.Error("[{Name}] ✗ {Message}", command.Name, result.Message);
        return PodCommandJudge.Enforce(command, result);
    }

    private static async Task StreamAsync(Stream stream, Action<string> line)
    {
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(CancellationToken.None) is { } text)
            line(text);
    }

    /// <summary>A Ready, not terminating pod of the ReplicaSet whose revision is the Deployment's current one.</summary>
    public async Task<V1Pod?> FindReadyPodAsync(string ns, string deployment, CancellationToken cancellationToken)
    {
        V1Deployment live;
        try
        {
            live = await client.AppsV1.ReadNamespacedDeploymentAsync(deployment, ns, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        var selector = string.Join(',', live.Spec.Selector.MatchLabels?.Select(l => $"{l.Key}={l.Value}") ?? []);
        var revision = Annotation(live.Metadata.Annotations, "deployment.kubernetes.io/revision");
        var sets = (await client.AppsV1.ListNamespacedReplicaSetAsync(ns, labelSelector: selector, cancellationToken: cancellationToken)).Items;
        var current = sets
            .Where(rs => rs.Metadata.OwnerReferences?.Any(o => o.Uid == live.Metadata.Uid) ?? false)
            .Where(rs => revision is null || Annotation(rs.Metadata.Annotations, "deployment.kubernetes.io/revision") == revision)
            .OrderByDescending(rs => rs.Metadata.CreationTimestamp)
            .FirstOrDefault();
        if (Annotation(current?.Metadata.Labels, "pod-template-hash") is not { } hash)
            return null;
        var pods = (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"{(selector.Length == 0 ? "" : selector + ",")}pod-template-hash={hash}", cancellationToken: cancellationToken)).Items;
        return pods
            .Where(p => p.Metadata.DeletionTimestamp is null)
            .Where(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            .OrderBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    private static string? Annotation(IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;
}

/// <summary>Whether a post-deploy command (a seed) should run at all: only for an image this run built or reused, once its rollout succeeded.</summary>
public static class PodCommandGate
{
    /// <summary>Null when the command should run; otherwise why it is skipped.</summary>
    public static string? WhyNot(string image, bool imageInRun, ObjectRef workload, RolloutWaitReport? rollouts)
    {
        if (!imageInRun)
            return $"the {image} image was neither built nor reused in this run";
        var result = rollouts?.Results.FirstOrDefault(r => r.Workload.Matches(workload));
        if (result is null)
            return $"the rollout of {workload} was not followed in this run";
        return result.OnNewVersion ? null : $"the rollout of {workload} did not succeed ({result.Outcome})";
    }
}
