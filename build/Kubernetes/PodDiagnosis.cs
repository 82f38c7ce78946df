using System.Text.RegularExpressions;
using k8s.Models;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes;

public enum PodProblemKind
{
    ImagePullUnauthorized,
    ImageNotFound,
    ImagePlatformMismatch,
    ImagePullFailed,
    CrashLoop,
    OutOfMemory,
    MissingConfig,
    ContainerFailed,
    InitContainerFailed,
    Unschedulable,
    ReadinessFailing,
}

/// <summary>
/// Why a pod of the new revision is not becoming ready, with the fix. <see cref="IsTerminal"/>: waiting longer will
/// not help (the rollout wait stops early); otherwise it is only the explanation given when the deadline passes.
/// </summary>
public sealed record PodProblem(
    PodProblemKind Kind,
    string Pod,
    string? Container,
    string Reason,
    string Message,
    string Fix,
    bool IsTerminal)
{
    /// <summary>Last log lines of the previous (crashed) container, when the waiter fetched them.</summary>
    public IReadOnlyList<string> LogTail { get; init; } = [];

    public bool NeedsPreviousLog => Kind is PodProblemKind.CrashLoop or PodProblemKind.OutOfMemory or PodProblemKind.InitContainerFailed or PodProblemKind.ContainerFailed;

    public override string ToString()
    {
        var where = Container is null ? $"pod {Pod}" : $"pod {Pod}, container {Container}";
        var log = LogTail.Count == 0 ? "" : Environment.NewLine + string.Join(Environment.NewLine, LogTail.Select(l => "      | " + l));
        return $"{where}: {Reason}: {Message}{log}{Environment.NewLine}    Fix: {Fix}";
    }
}

/// <summary>
/// Classifies pods of a workload's NEW revision (pure): image pulls (unauthorized, not found, wrong platform),
/// crash loops, OOM kills, missing secrets/config maps/keys, unschedulable pods and failing readiness probes.
/// </summary>
public static partial class PodDiagnosis
{
    /// <summary>Pods whose revision label has the new revision's value (Deployments: pod-template-hash).</summary>
    public static IReadOnlyList<V1Pod> NewRevisionPods(IEnumerable<V1Pod> pods, string label, string value) =>
        [.. pods.Where(p => p.Metadata?.Labels is { } labels && labels.TryGetValue(label, out var v) && v == value)];

    /// <param name="pushed">Repository → the digest this run pushed (the build report), to compare a missing image with.</param>
    public static IReadOnlyList<PodProblem> Diagnose(IEnumerable<V1Pod> pods, IEnumerable<Corev1Event> events, IReadOnlyDictionary<string, string>? pushed = null)
    {
        pushed ??= new Dictionary<string, string>();
        var eventList = events.ToList();
        var problems = new List<PodProblem>();
        foreach (var pod in pods)
        {
            var podName = pod.Metadata?.Name ?? "?";
            if (pod.Metadata?.DeletionTimestamp is not null)
                continue;
            var podEvents = eventList
                .Where(e => e.InvolvedObject?.Name == podName && (e.InvolvedObject.Kind is null or "Pod"))
                .OrderBy(e => e.LastTimestamp ?? e.EventTime ?? e.FirstTimestamp ?? DateTime.MinValue)
                .ToList();
            var found = new List<PodProblem>();
            var statuses = (pod.Status?.InitContainerStatuses ?? []).Select(s => (s, true))
                .Concat((pod.Status?.ContainerStatuses ?? []).Select(s => (s, false)));
            foreach (var (status, isInit) in statuses)
                if (Classify(pod, podName, status, isInit, podEvents, pushed) is { } problem)
                    found.Add(problem);

            var scheduled = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
            if (scheduled is { Status: "False" })
            {
                var schedulerEvent = podEvents.LastOrDefault(e => e.Reason == "FailedScheduling");
                var message = schedulerEvent?.Message ?? scheduled.Message ?? "the scheduler found no node";
                found.Add(new PodProblem(PodProblemKind.Unschedulable, podName, null, scheduled.Reason ?? "Unschedulable", message,
                    "No node fits the pod: free or add capacity (node group size, instance type), or lower its resource requests / fix its node selector, affinity or tolerations.",
                    IsTerminal: false));
            }

            if (found.Count == 0 && pod.Status?.Phase == "Running")
            {
                var unhealthy = podEvents.Where(e => e.Reason == "Unhealthy" && (e.Message ?? "").Contains("Readiness probe failed", StringComparison.Ordinal)).ToList();
                var notReady = pod.Status.ContainerStatuses?.Where(s => s.Ready != true).Select(s => s.Name).ToList() ?? [];
                if (unhealthy.Count > 0 && notReady.Count > 0)
                {
                    var count = unhealthy.Sum(e => e.Count ?? 1);
                    found.Add(new PodProblem(PodProblemKind.ReadinessFailing, podName, notReady.Count == 1 ? notReady[0] : null, "Unhealthy",
                        $"{unhealthy[^1].Message} ({count} time{(count == 1 ? "" : "s")})",
                        "The container runs but its readiness probe fails: check the probe's path/port and the application's startup (logs), or give it a longer initialDelaySeconds/failureThreshold.",
                        IsTerminal: false));
                }
            }
            if (found.Count == 0 && pod.Status?.Phase == "Failed")
                found.Add(new PodProblem(PodProblemKind.ContainerFailed, podName, null, pod.Status.Reason ?? "Failed",
                    pod.Status.Message ?? "the pod failed", "Inspect the pod's events and logs (kubectl describe pod).", IsTerminal: true));
            problems.AddRange(found);
        }
        return problems;
    }

    private static PodProblem? Classify(V1Pod pod, string podName, V1ContainerStatus status, bool isInit, IReadOnlyList<Corev1Event> podEvents, IReadOnlyDictionary<string, string> pushed)
    {
        var waiting = status.State?.Waiting;
        var terminated = status.State?.Terminated;
        var last = status.LastState?.Terminated;
        var container = status.Name;
        var image = status.Image ?? ContainerImage(pod, container) ?? "the image";

        if (waiting?.Reason is "ErrImagePull" or "ImagePullBackOff" or "ErrImageNeverPull" or "InvalidImageName")
        {
            // ImagePullBackOff only says "Back-off pulling image"; the registry's answer is in the kubelet's event.
            var pullEvent = podEvents.LastOrDefault(e => e.Reason is "Failed" && (e.Message ?? "").Contains(image, StringComparison.Ordinal))
                ?? podEvents.LastOrDefault(e => e.Reason is "Failed" && (e.Message ?? "").Contains("pull", StringComparison.OrdinalIgnoreCase));
            var message = string.Join(" ", new[] { waiting.Message, pullEvent?.Message }.Where(m => !string.IsNullOrEmpty(m)).Distinct());
            var text = message.ToLowerInvariant();
            if (text.Contains("no match for platform", StringComparison.Ordinal))
                return new PodProblem(PodProblemKind.ImagePlatformMismatch, podName, container, waiting.Reason, message,
                    $"{image} has no linux/amd64 variant for this node: rebuild it for the nodes' platform (--platform linux/amd64) and deploy again.", true);
            if (text.Contains("unauthorized", StringComparison.Ordinal) || text.Contains("401", StringComparison.Ordinal) || text.Contains("403 forbidden", StringComparison.Ordinal)
                || text.Contains("denied", StringComparison.Ordinal) || text.Contains("no basic auth credentials", StringComparison.Ordinal) || text.Contains("authorization failed", StringComparison.Ordinal))
                return new PodProblem(PodProblemKind.ImagePullUnauthorized, podName, container, waiting.Reason, message, UnauthorizedFix(image), true);
            if (text.Contains("not found", StringComparison.Ordinal) || text.Contains("manifest unknown", StringComparison.Ordinal) || text.Contains("404", StringComparison.Ordinal)
                || waiting.Reason == "InvalidImageName")
                return new PodProblem(PodProblemKind.ImageNotFound, podName, container, waiting.Reason, message, NotFoundFix(image, pushed), true);
            return new PodProblem(PodProblemKind.ImagePullFailed, podName, container, waiting.Reason, message.Length == 0 ? $"cannot pull {image}" : message,
                $"The node cannot pull {image}: check the registry is reachable from the cluster and the reference is right.", true);
        }

        if (waiting?.Reason == "CreateContainerConfigError")
            return MissingConfig(podName, container, waiting.Message ?? "", pod.Metadata?.NamespaceProperty);

        if (waiting?.Reason is "CreateContainerError" or "RunContainerError" or "StartError")
            return new PodProblem(PodProblemKind.ContainerFailed, podName, container, waiting.Reason, waiting.Message ?? "",
                "The runtime could not start the container: check its command/entrypoint, volume mounts and security context.", true);

        var crashed = waiting?.Reason == "CrashLoopBackOff";
        if ((last?.Reason == "OOMKilled" && (crashed || terminated is not null)) || terminated?.Reason == "OOMKilled")
        {
            var limit = MemoryLimit(pod, container);
            return new PodProblem(PodProblemKind.OutOfMemory, podName, container, "OOMKilled",
                $"killed for using more memory than its limit{(limit is null ? "" : $" ({limit})")}; restarted {status.RestartCount} time(s)",
                $"Raise resources.limits.memory of container {container}{(limit is null ? "" : $" (now {limit})")}, or find what makes it grow.", true);
        }

        if (crashed)
        {
            var exit = last is null ? "" : $"; last exit code {last.ExitCode}{(last.Reason is null ? "" : $" ({last.Reason})")}";
            return new PodProblem(isInit ? PodProblemKind.InitContainerFailed : PodProblemKind.CrashLoop, podName, container, "CrashLoopBackOff",
                $"{(isInit ? "init container" : "container")} keeps exiting; restarted {status.RestartCount} time(s){exit}",
                $"The {(isInit ? "init container" : "container")} exits at start: read its last log lines (kubectl logs {podName} -c {container} --previous), fix the cause (configuration, secrets, migrations) and deploy again.", true);
        }

        if (isInit && terminated is { ExitCode: not 0 })
            return new PodProblem(PodProblemKind.InitContainerFailed, podName, container, terminated.Reason ?? "Error",
                $"init container exited with code {terminated.ExitCode}", $"Read the init container's log (kubectl logs {podName} -c {container}) and fix what it reports.",
                pod.Spec?.RestartPolicy == "Never");
        return null;
    }

    /// <summary>ECR: the node role's pull permission (and EcrLogin for the pipeline's own pushes); elsewhere the pull secret.</summary>
    private static string UnauthorizedFix(string image)
    {
        var host = ImageReference.Parse(image).Registry;
        if (EcrHost().Match(host) is not { Success: true } ecr)
            return $"The node may not pull {image}: check the registry credentials the pod uses (its imagePullSecret), then deploy again.";
        return $"The nodes may not pull from ECR {host}: the node role needs ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer "
            + $"(the AmazonEC2ContainerRegistryReadOnly policy) on account {ecr.Groups["account"].Value} in {ecr.Groups["region"].Value}, and a repository policy that lets that account pull. "
            + "If this run's own pushes were refused too, its ECR login expired: ./build.sh EcrLogin, then deploy again.";
    }

    /// <summary>A missing image compared with what this run pushed: which digest was expected, and why they differ.</summary>
    private static string NotFoundFix(string image, IReadOnlyDictionary<string, string> pushed)
    {
        var reference = ImageReference.Parse(image);
        if (!pushed.TryGetValue(reference.Repository, out var expected))
            return $"{image} does not exist in the registry, and this run pushed no {reference.Repository}: the digest deployed must be one that was pushed; rebuild and push the image (--images) or check the repository name.";
        if (reference.Digest == expected)
            return $"{image} is the digest this run pushed, yet the registry does not have it (deleted by a lifecycle policy, or pushed to another registry or account): rebuild it with --force-build and deploy again.";
        return $"{image} does not exist in the registry; this run pushed {reference.Repository}@{expected}: the manifest pins {(reference.Digest is null ? $"tag {reference.Tag}" : $"digest {reference.Digest}")} instead. Deploy the pushed digest (KustomizeApply pins it from the build report) or rebuild the image (--images).";
    }

    private static PodProblem MissingConfig(string podName, string container, string message, string? ns)
    {
        var keyMatch = MissingKeyPattern().Match(message);
        if (keyMatch.Success)
            return new PodProblem(PodProblemKind.MissingConfig, podName, container, "CreateContainerConfigError", message,
                $"Add key '{keyMatch.Groups["key"].Value}' to {keyMatch.Groups["kind"].Value} {keyMatch.Groups["ref"].Value} (or mark the reference optional), then deploy again.", true);
        var objectMatch = MissingObjectPattern().Match(message);
        if (objectMatch.Success)
            return new PodProblem(PodProblemKind.MissingConfig, podName, container, "CreateContainerConfigError", message,
                $"Create {objectMatch.Groups["kind"].Value} '{objectMatch.Groups["name"].Value}'{(ns is null ? "" : $" in namespace {ns}")} (it is referenced by the pod but does not exist), then deploy again.", true);
        return new PodProblem(PodProblemKind.MissingConfig, podName, container, "CreateContainerConfigError", message,
            "The container's configuration refers to something missing (secret, config map, key or service account): create it and deploy again.", true);
    }

    private static string? ContainerImage(V1Pod pod, string container) =>
        (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []).FirstOrDefault(c => c.Name == container)?.Image;

    private static string? MemoryLimit(V1Pod pod, string container) =>
        (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []).FirstOrDefault(c => c.Name == container)?.Resources?.Limits is { } limits
        && limits.TryGetValue("memory", out var quantity) ? quantity.ToString() : null;

    [GeneratedRegex(@"^(?<account>\d{12})\.dkr\.ecr(-fips)?\.(?<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")]
    private static partial Regex EcrHost();

    [GeneratedRegex(@"couldn't find key (?<key>\S+) in (?<kind>Secret|ConfigMap) (?<ref>\S+)", RegexOptions.IgnoreCase)]
    private static partial Regex MissingKeyPattern();

    [GeneratedRegex(@"(?<kind>secret|configmap|serviceaccount)s? ""(?<name>[^""]+)"" not found", RegexOptions.IgnoreCase)]
    private static partial Regex MissingObjectPattern();
}
