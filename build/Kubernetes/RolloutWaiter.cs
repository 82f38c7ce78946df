using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary>A workload to follow; <paramref name="Deadline"/> overrides the one derived from its spec.</summary>
public sealed record RolloutTarget(ObjectRef Workload, TimeSpan? Deadline = null)
{
    /// <summary>The least deadline whatever the spec gives (the CSI node DaemonSet's legacy 1800 s for a full rollout).</summary>
    public TimeSpan? Floor { get; init; }
}

public sealed record RolloutProgress(ObjectRef Workload, string Message, TimeSpan Elapsed);

public enum RolloutOutcome
{
    Succeeded,
    Failed,
    TimedOut,
    ClusterUnreachable,
}

public sealed record RolloutResult(ObjectRef Workload, RolloutOutcome Outcome, string Message, IReadOnlyList<PodProblem> Problems, TimeSpan Duration, TimeSpan Deadline)
{
    /// <summary>Every replica runs the new pod template.</summary>
    public bool OnNewVersion => Outcome == RolloutOutcome.Succeeded;
}

public sealed record RolloutWaitReport(IReadOnlyList<RolloutResult> Results)
{
    public IReadOnlyList<RolloutResult> Succeeded => [.. Results.Where(r => r.OnNewVersion)];

    public IReadOnlyList<RolloutResult> NotSucceeded => [.. Results.Where(r => !r.OnNewVersion)];

    public bool AllSucceeded => Results.All(r => r.OnNewVersion);

    /// <summary>One failure naming every workload that is not on the new version, why, and the fixes.</summary>
    /// <param name="afterOutage">What to do once the cluster answers again, in the caller's words (<see cref="RolloutWaitOptions.AfterOutage"/>).</param>
    public void ThrowIfFailed(string? afterOutage = null)
    {
        if (AllSucceeded)
            return;
        var lines = new List<string> { $"{NotSucceeded.Count} of {Results.Count} rollout(s) did not complete:" };
        foreach (var result in NotSucceeded)
        {
            lines.Add($"  ✗ {result.Workload}: {result.Outcome}: {result.Message}");
            lines.AddRange(result.Problems.Select(p => "    " + p.ToString().Replace(Environment.NewLine, Environment.NewLine + "    ", StringComparison.Ordinal)));
        }
        if (Succeeded.Count > 0)
            lines.Add($"  On the new version: {string.Join(", ", Succeeded.Select(r => r.Workload.ToString()))}");
        var unreachable = Results.Where(r => r.Outcome == RolloutOutcome.ClusterUnreachable).Select(r => r.Workload.ToString()).ToList();
        var fix = unreachable.Count > 0
            ? $"The cluster stopped answering while these rollouts were still in progress: {string.Join(", ", unreachable)}. Check connectivity and credentials, then {afterOutage ?? "check where they are (kubectl rollout status)"}."
            : "Fix the causes listed above and deploy again (pods of the previous version keep serving where the rollout did not complete).";
        throw new BuildFailure(string.Join(Environment.NewLine, lines), fix);
    }
}

public sealed record RolloutWaitOptions
{
    /// <summary><c>--rollout-timeout</c>: one deadline for every workload instead of the derived ones.</summary>
    public TimeSpan? DeadlineOverride { get; init; }

    /// <summary>Nodes in the cluster, for DaemonSet deadlines (0: use the DaemonSet's desired count).</summary>
    public int NodeCount { get; init; }

    /// <summary>How often pods of the new revision are examined between watch events.</summary>
    public TimeSpan PodCheckInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Consecutive failed attempts to reach the cluster before giving up on a workload.</summary>
    public int MaxAttempts { get; init; } = 5;

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one watch request stays open before it is renewed.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public Action<RolloutProgress>? OnProgress { get; init; }

    /// <summary>Repository → the digest this run pushed: a pod that cannot find its image is compared with it.</summary>
    public IReadOnlyDictionary<string, string>? PushedDigests { get; init; }

    /// <summary>Words the fix for each pod problem found (the pipeline's <c>PodTroubleshooting.Fix</c>); without it problems are reported without one.</summary>
    public Func<PodCause, string>? Fixes { get; init; }

    /// <summary>What to do once a cluster that stopped answering mid-rollout answers again, in the caller's words (the rollouts go on without the waiter).</summary>
    public string? AfterOutage { get; init; }
}

/// <summary>
/// Follows many rollouts at once, each with its own deadline, by watching the workload and examining the pods of
/// its new revision. A terminal pod failure ends that workload's wait early with the diagnosis; the others are
/// followed to their end, so the report says exactly which workloads are on the new version.
/// </summary>
public sealed class RolloutWaiter(KubeCluster cluster, ILogger logger)
{
    public async Task<RolloutWaitReport> WaitAsync(IReadOnlyList<RolloutTarget> targets, RolloutWaitOptions options, CancellationToken cancellationToken)
    {
        RolloutDeadlines.ValidateOverride(options.DeadlineOverride, "the rollout deadline");
        targets = [.. targets.Select(t => t with { Workload = t.Workload with { Kind = PodTemplates.RolloutKind(t.Workload.Kind) ?? t.Workload.Kind } })];
        foreach (var target in targets)
        {
            RolloutDeadlines.ValidateOverride(target.Deadline, $"the rollout deadline of {target.Workload}");
            if (!PodTemplates.RolloutKinds.Contains(target.Workload.Kind) || target.Workload.Namespace is null)
                throw new UsageException($"Cannot follow the rollout of {target.Workload}: only namespaced Deployments, DaemonSets and StatefulSets roll out.");
        }
        var results = await Task.WhenAll(targets.Select(t => FollowAsync(t, options, cancellationToken)));
        return new RolloutWaitReport(results);
    }

    private async Task<RolloutResult> FollowAsync(RolloutTarget target, RolloutWaitOptions options, CancellationToken cancellationToken)
    {
        var workload = target.Workload;
        var clock = Stopwatch.StartNew();
        var resource = await Retry(() => cluster.RequireAsync("apps/v1", workload.Kind, cancellationToken), options, cancellationToken);
        if (resource.Value is null)
            return new(workload, RolloutOutcome.ClusterUnreachable, resource.Error!, [], clock.Elapsed, TimeSpan.Zero);
        var first = await Retry(() => cluster.GetAsync(resource.Value, workload.Namespace, workload.Name, cancellationToken), options, cancellationToken);
        if (first.Error is not null)
            return new(workload, RolloutOutcome.ClusterUnreachable, first.Error, [], clock.Elapsed, TimeSpan.Zero);
        if (first.Value is null)
            return new(workload, RolloutOutcome.Failed, "the workload does not exist", [], clock.Elapsed, TimeSpan.Zero);

        var current = new KubeObject(first.Value);
        var derived = RolloutDeadlines.For(current, options.NodeCount);
        var deadline = options.DeadlineOverride ?? target.Deadline ?? (target.Floor is { } floor && floor > derived ? floor : derived);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var updates = Channel.CreateUnbounded<JsonObject>();
        var watcher = WatchLoopAsync(resource.Value, workload, (string?)first.Value["metadata"]?["resourceVersion"], updates.Writer, options, stop.Token);
        try
        {
            string? lastMessage = null;
            var nextPodCheck = TimeSpan.Zero;
            while (true)
            {
                var verdict = RolloutJudge.Judge(current);
                if (verdict.State == RolloutState.Complete)
                    return Report(new(workload, RolloutOutcome.Succeeded, verdict.Message, [], clock.Elapsed, deadline));
                if (verdict.State == RolloutState.Failed)
                    return Report(new(workload, RolloutOutcome.Failed, verdict.Message, await DiagnoseAsync(current, options, cancellationToken), clock.Elapsed, deadline));
                if (verdict.Message != lastMessage)
                {
                    lastMessage = verdict.Message;
                    Progress(workload, verdict.Message, clock.Elapsed, options);
                }
                // Until the controller has seen the current spec, "the new revision" is still the old one: its pods say
                // nothing about this rollout.
                if (clock.Elapsed >= nextPodCheck && IsObserved(current))
                {
                    nextPodCheck = clock.Elapsed + options.PodCheckInterval;
                    var problems = await DiagnoseAsync(current, options, cancellationToken);
                    if (problems.Any(p => p.IsTerminal))
                        return Report(new(workload, RolloutOutcome.Failed, $"pods of the new revision cannot start ({verdict.Message})", problems, clock.Elapsed, deadline));
                }
                var remaining = deadline - clock.Elapsed;
                if (remaining <= TimeSpan.Zero)
                    return Report(new(workload, RolloutOutcome.TimedOut, $"not complete after {Durations.Format(deadline)}: {verdict.Message}",
                        await DiagnoseAsync(current, options, cancellationToken), clock.Elapsed, deadline));
                var wait = remaining < options.PodCheckInterval ? remaining : options.PodCheckInterval;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(wait);
                try
                {
                    if (await updates.Reader.WaitToReadAsync(timeout.Token))
                        while (updates.Reader.TryRead(out var latest))
                            current = new KubeObject(latest);
                    else
                        return Report(new(workload, RolloutOutcome.ClusterUnreachable, ClusterUnreachable.Describe(cluster, $"the rollout was in progress ({verdict.Message})"), [], clock.Elapsed, deadline));
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }
                catch (WorkloadDeletedException)
                {
                    return Report(new(workload, RolloutOutcome.Failed, "the workload was deleted while its rollout was followed", [], clock.Elapsed, deadline));
                }
                catch (Exception e) when (e is BuildFailure or ChannelClosedException)
                {
                    return Report(new(workload, RolloutOutcome.ClusterUnreachable, ClusterUnreachable.Describe(cluster, $"the rollout was in progress ({verdict.Message})", e.InnerException ?? e), [], clock.Elapsed, deadline));
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await watcher;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private RolloutResult Report(RolloutResult result)
    {
        if (result.OnNewVersion)
            logger.Information("[{Workload}] ✓ {Message} ({Duration})", result.Workload, result.Message, Durations.Format(result.Duration));
        else
            logger.Error("[{Workload}] ✗ {Outcome}: {Message}{Problems}", result.Workload, result.Outcome, result.Message,
                string.Concat(result.Problems.Select(p => Environment.NewLine + "    " + p)));
        return result;
    }

    private void Progress(ObjectRef workload, string message, TimeSpan elapsed, RolloutWaitOptions options)
    {
        logger.Information("[{Workload}] {Message}", workload, message);
        options.OnProgress?.Invoke(new RolloutProgress(workload, message, elapsed));
    }

    /// <summary>Keeps a watch open (renewing it when the server ends it); after too many failed attempts the channel completes with the error.</summary>
    private async Task WatchLoopAsync(ApiResource resource, ObjectRef workload, string? resourceVersion, ChannelWriter<JsonObject> writer, RolloutWaitOptions options, CancellationToken cancellationToken)
    {
        var failures = 0;
        Exception? last = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var (type, obj) in cluster.WatchAsync(resource, workload.Namespace, workload.Name, resourceVersion, options.WatchTimeout, cancellationToken))
                {
                    failures = 0;
                    resourceVersion = (string?)obj["metadata"]?["resourceVersion"] ?? resourceVersion;
                    if (type is "ADDED" or "MODIFIED")
                        await writer.WriteAsync(obj, cancellationToken);
                    else if (type == "DELETED")
                    {
                        writer.TryComplete(new WorkloadDeletedException());
                        return;
                    }
                }
                failures = 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (KubeApiException e) when (e.Status == HttpStatusCode.Gone)
            {
                // Our resourceVersion is too old: read the object again and watch from there.
                var fresh = await Retry(() => cluster.GetAsync(resource, workload.Namespace, workload.Name, cancellationToken), options, cancellationToken);
                if (fresh.Value is { } obj)
                {
                    resourceVersion = (string?)obj["metadata"]?["resourceVersion"];
                    await writer.WriteAsync(obj, cancellationToken);
                }
            }
            catch (Exception e) when (IsTransient(e))
            {
                last = e;
                failures++;
                logger.Warning("[{Workload}] watch interrupted ({Error}); attempt {Attempt} of {Max}", workload, e.Message, failures, options.MaxAttempts);
                if (failures >= options.MaxAttempts)
                {
                    writer.TryComplete(new BuildFailure($"The cluster {cluster.DisplayName} stopped answering: {last.Message}"));
                    return;
                }
                await Task.Delay(options.RetryDelay, cancellationToken);
            }
        }
        writer.TryComplete();
    }

    /// <summary>The workload's controller has observed its current generation (pure).</summary>
    public static bool IsObserved(KubeObject workload)
    {
        var generation = (long?)workload.Body["metadata"]?["generation"];
        var observed = (long?)workload.Body["status"]?["observedGeneration"];
        return generation is null || (observed is not null && observed >= generation);
    }

    private async Task<IReadOnlyList<PodProblem>> DiagnoseAsync(KubeObject workload, RolloutWaitOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var ns = workload.Namespace!;
            var pods = await NewRevisionPodsAsync(workload, cancellationToken);
            if (pods.Count == 0)
                return [];
            var notReady = pods.Where(p => p.Status?.ContainerStatuses?.All(c => c.Ready) != true).Take(5).ToList();
            var events = new List<Corev1Event>();
            foreach (var pod in notReady)
                events.AddRange((await cluster.Client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: $"involvedObject.name={pod.Metadata.Name}", cancellationToken: cancellationToken)).Items);
            var problems = PodDiagnosis.Diagnose(notReady, events, options.PushedDigests).Select(p => p with { Fix = options.Fixes?.Invoke(p.Cause) }).ToList();
            for (var i = 0; i < problems.Count; i++)
                if (problems[i].IsTerminal && problems[i].NeedsPreviousLog && problems[i].Container is { } container)
                    problems[i] = problems[i] with { LogTail = await PreviousLogAsync(ns, problems[i].Pod, container, cancellationToken) };
            return problems;
        }
        catch (Exception e) when (IsTransient(e) || e is KubeApiException or k8s.Autorest.HttpOperationException)
        {
            logger.Debug("[{Workload}] pods not examined: {Error}", workload.Ref, e.Message);
            return [];
        }
    }

    private async Task<IReadOnlyList<string>> PreviousLogAsync(string ns, string pod, string container, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await cluster.Client.CoreV1.ReadNamespacedPodLogAsync(pod, ns, container: container, previous: true, tailLines: 20, cancellationToken: cancellationToken);
            using var reader = new StreamReader(stream);
            var text = await reader.ReadToEndAsync(cancellationToken);
            return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(20).Select(Secrets.Redact)];
        }
        catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException or IOException)
        {
            return [$"(previous log unavailable: {e.Message})"];
        }
    }

    /// <summary>Pods of the workload's new revision: by pod-template-hash (Deployments), update revision (StatefulSets) or template generation (DaemonSets).</summary>
    private async Task<IReadOnlyList<V1Pod>> NewRevisionPodsAsync(KubeObject workload, CancellationToken cancellationToken)
    {
        var ns = workload.Namespace!;
        var labels = workload.Body["spec"]?["selector"]?["matchLabels"]?.AsObject().Select(p => $"{p.Key}={(string?)p.Value}") ?? [];
        var selector = string.Join(',', labels);
        var pods = (await cluster.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector, cancellationToken: cancellationToken)).Items;
        switch (workload.Kind)
        {
            case "Deployment":
                var revision = (string?)workload.Body["metadata"]?["annotations"]?["deployment.kubernetes.io/revision"];
                var uid = (string?)workload.Body["metadata"]?["uid"];
                var sets = (await cluster.Client.AppsV1.ListNamespacedReplicaSetAsync(ns, labelSelector: selector, cancellationToken: cancellationToken)).Items;
                var newest = sets
                    .Where(rs => rs.Metadata.OwnerReferences?.Any(o => o.Uid == uid) ?? false)
                    .Where(rs => revision is null || (rs.Metadata.Annotations?.TryGetValue("deployment.kubernetes.io/revision", out var r) == true && r == revision))
                    .OrderByDescending(rs => rs.Metadata.CreationTimestamp)
                    .FirstOrDefault();
                return newest?.Metadata.Labels?.TryGetValue("pod-template-hash", out var hash) == true
                    ? PodDiagnosis.NewRevisionPods(pods, "pod-template-hash", hash) : [];
            case "StatefulSet":
                var update = (string?)workload.Body["status"]?["updateRevision"];
                return update is null ? [] : PodDiagnosis.NewRevisionPods(pods, "controller-revision-hash", update);
            default:
                var generation = workload.Body["metadata"]?["generation"]?.ToString();
                return generation is null || !pods.Any(p => p.Metadata.Labels?.ContainsKey("pod-template-generation") == true)
                    ? [.. pods] : PodDiagnosis.NewRevisionPods(pods, "pod-template-generation", generation);
        }
    }

    private async Task<(T? Value, string? Error)> Retry<T>(Func<Task<T>> call, RolloutWaitOptions options, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await call(), null);
            }
            catch (Exception e) when (IsTransient(e) && attempt < options.MaxAttempts)
            {
                await Task.Delay(options.RetryDelay, cancellationToken);
            }
            catch (Exception e) when (IsTransient(e))
            {
                return (default, ClusterUnreachable.Describe(cluster, "reading the workload", e));
            }
        }
    }

    private static bool IsTransient(Exception e) => e is HttpRequestException or IOException or TimeoutException
        || (e is TaskCanceledException && e.InnerException is TimeoutException)
        || (e is KubeApiException k && (int)k.Status >= 500);
}

internal sealed class WorkloadDeletedException : Exception;
