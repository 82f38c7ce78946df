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
/// What the diagnosis established about a pod, as facts. The fix is worded by the caller (the platform layer's
/// <c>PodTroubleshooting</c>, in the pipeline's own targets and flags), never here.
/// </summary>
public abstract record PodCause
{
    private PodCause()
    {
    }

    public abstract PodProblemKind Kind { get; }

    /// <summary>The registry refused the node's pull; <paramref name="EcrAccount"/>/<paramref name="EcrRegion"/> when <paramref name="Registry"/> is ECR.</summary>
    public sealed record PullUnauthorized(string Image, string Registry, string? EcrAccount, string? EcrRegion) : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.ImagePullUnauthorized;
    }

    /// <summary>The registry has no such image, and this run pushed nothing to <paramref name="Repository"/>.</summary>
    public sealed record ImageNotPushed(string Image, string Repository) : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.ImageNotFound;
    }

    /// <summary>The registry no longer has the very digest this run pushed.</summary>
    public sealed record PushedDigestGone(string Image) : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.ImageNotFound;
    }

    /// <summary>The registry has no such image; this run pushed <paramref name="PushedDigest"/> to its repository, but the manifest pins another digest (or a tag).</summary>
    public sealed record OtherImagePinned(string Image, string Repository, string PushedDigest, string? PinnedDigest, string? PinnedTag) : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.ImageNotFound;
    }

    /// <summary>The image has no variant for the node's platform.</summary>
    public sealed record NoPlatformVariant(string Image) : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.ImagePlatformMismatch;
    }

    /// <summary>The pull failed for another reason (registry unreachable, bad reference).</summary>
    public sealed record PullFailed(string Image) : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.ImagePullFailed;
    }

    /// <summary>The container (an init container when <paramref name="Init"/>) keeps exiting at start.</summary>
    public sealed record ExitsAtStart(string Pod, string Container, bool Init) : PodCause
    {
        public override PodProblemKind Kind => Init ? PodProblemKind.InitContainerFailed : PodProblemKind.CrashLoop;
    }

    /// <summary>Killed for exceeding its memory limit (<paramref name="Limit"/>, when the spec has one).</summary>
    public sealed record OutOfMemory(string Container, string? Limit) : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.OutOfMemory;
    }

    /// <summary>An init container exited non-zero.</summary>
    public sealed record InitContainerExited(string Pod, string Container) : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.InitContainerFailed;
    }

    /// <summary>The container runtime could not start the container.</summary>
    public sealed record NotStarted : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.ContainerFailed;
    }

    /// <summary>The pod itself failed (phase Failed) without a container status that says why.</summary>
    public sealed record PodFailed : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.ContainerFailed;
    }

    /// <summary>A key the container reads is missing from <paramref name="ObjectKind"/> <paramref name="Reference"/> (namespace/name).</summary>
    public sealed record MissingKey(string Key, string ObjectKind, string Reference) : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.MissingConfig;
    }

    /// <summary>A secret, config map or service account the pod references does not exist.</summary>
    public sealed record MissingObject(string ObjectKind, string Name, string? Namespace) : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.MissingConfig;
    }

    /// <summary>The configuration refers to something missing, and the message does not say what.</summary>
    public sealed record MissingReference : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.MissingConfig;
    }

    /// <summary>No node fits the pod.</summary>
    public sealed record NoNodeFits : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.Unschedulable;
    }

    /// <summary>The container runs but its readiness probe fails.</summary>
    public sealed record ReadinessProbeFailing : PodCause
    {
        public override PodProblemKind Kind => PodProblemKind.ReadinessFailing;
    }
}

/// <summary>
/// Why a pod of the new revision is not becoming ready: what the cluster shows (<paramref name="Reason"/>,
/// <paramref name="Message"/>) and the <paramref name="Cause"/> as facts. <see cref="IsTerminal"/>: waiting longer will
/// not help (the rollout wait stops early); otherwise it is only the explanation given when the deadline passes.
/// </summary>
public sealed record PodProblem(
    string Pod,
    string? Container,
    string Reason,
    string Message,
    PodCause Cause,
    bool IsTerminal)
{
    public PodProblemKind Kind => Cause.Kind;

    /// <summary>The fix, in the words of whoever asked (<see cref="RolloutWaitOptions.Fixes"/>); null when none was given.</summary>
    public string? Fix { get; init; }

    /// <summary>Last log lines of the previous (crashed) container, when the waiter fetched them.</summary>
    public IReadOnlyList<string> LogTail { get; init; } = [];

    public bool NeedsPreviousLog => Kind is PodProblemKind.CrashLoop or PodProblemKind.OutOfMemory or PodProblemKind.InitContainerFailed or PodProblemKind.ContainerFailed;

    public override string ToString()
    {
        var where = Container is null ? $"pod {Pod}" : $"pod {Pod}, container {Container}";
        var log = LogTail.Count == 0 ? "" : Environment.NewLine + string.Join(Environment.NewLine, LogTail.Select(l => "      | " + l));
        return $"{where}: {Reason}: {Message}{log}{(Fix is null ? "" : $"{Environment.NewLine}    Fix: {Fix}")}";
    }
}

/// <summary>
/// Classifies pods of a workload's NEW revision (pure): image pulls (unauthorized, not found, wrong platform),
/// crash loops, OOM kills, missing secrets/config maps/keys, unschedulable pods and failing readiness probes. It says
/// what went wrong (<see cref="PodCause"/>); the caller words the fix.
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
                found.Add(new PodProblem(podName, null, scheduled.Reason ?? "Unschedulable", message, new PodCause.NoNodeFits(), IsTerminal: false));
            }

            if (found.Count == 0 && pod.Status?.Phase == "Running")
            {
                var unhealthy = podEvents.Where(e => e.Reason == "Unhealthy" && (e.Message ?? "").Contains("Readiness probe failed", StringComparison.Ordinal)).ToList();
                var notReady = pod.Status.ContainerStatuses?.Where(s => s.Ready != true).Select(s => s.Name).ToList() ?? [];
                if (unhealthy.Count > 0 && notReady.Count > 0)
                {
                    var count = unhealthy.Sum(e => e.Count ?? 1);
                    found.Add(new PodProblem(podName, notReady.Count == 1 ? notReady[0] : null, "Unhealthy",
                        $"{unhealthy[^1].Message} ({count} time{(count == 1 ? "" : "s")})", new PodCause.ReadinessProbeFailing(), IsTerminal: false));
                }
            }
            if (found.Count == 0 && pod.Status?.Phase == "Failed")
                found.Add(new PodProblem(podName, null, pod.Status.Reason ?? "Failed", pod.Status.Message ?? "the pod failed", new PodCause.PodFailed(), IsTerminal: true));
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
            PodProblem Pull(PodCause cause, string? shown = null) => new(podName, container, waiting.Reason, shown ?? message, cause, IsTerminal: true);
            if (text.Contains("no match for platform", StringComparison.Ordinal))
                return Pull(new PodCause.NoPlatformVariant(image));
            if (text.Contains("unauthorized", StringComparison.Ordinal) || text.Contains("401", StringComparison.Ordinal) || text.Contains("403 forbidden", StringComparison.Ordinal)
                || text.Contains("denied", StringComparison.Ordinal) || text.Contains("no basic auth credentials", StringComparison.Ordinal) || text.Contains("authorization failed", StringComparison.Ordinal))
                return Pull(Unauthorized(image));
            if (text.Contains("not found", StringComparison.Ordinal) || text.Contains("manifest unknown", StringComparison.Ordinal) || text.Contains("404", StringComparison.Ordinal)
                || waiting.Reason == "InvalidImageName")
                return Pull(NotFound(image, pushed));
            return Pull(new PodCause.PullFailed(image), message.Length == 0 ? $"cannot pull {image}" : message);
        }

        if (waiting?.Reason == "CreateContainerConfigError")
            return MissingConfig(podName, container, waiting.Message ?? "", pod.Metadata?.NamespaceProperty);

        if (waiting?.Reason is "CreateContainerError" or "RunContainerError" or "StartError")
            return new PodProblem(podName, container, waiting.Reason, waiting.Message ?? "", new PodCause.NotStarted(), IsTerminal: true);

        var crashed = waiting?.Reason == "CrashLoopBackOff";
        if ((last?.Reason == "OOMKilled" && (crashed || terminated is not null)) || terminated?.Reason == "OOMKilled")
        {
            var limit = MemoryLimit(pod, container);
            return new PodProblem(podName, container, "OOMKilled",
                $"killed for using more memory than its limit{(limit is null ? "" : $" ({limit})")}; restarted {status.RestartCount} time(s)",
                new PodCause.OutOfMemory(container, limit), IsTerminal: true);
        }

        if (crashed)
        {
            var exit = last is null ? "" : $"; last exit code {last.ExitCode}{(last.Reason is null ? "" : $" ({last.Reason})")}";
            return new PodProblem(podName, container, "CrashLoopBackOff",
                $"{(isInit ? "init container" : "container")} keeps exiting; restarted {status.RestartCount} time(s){exit}",
                new PodCause.ExitsAtStart(podName, container, isInit), IsTerminal: true);
        }

        if (isInit && terminated is { ExitCode: not 0 })
            return new PodProblem(podName, container, terminated.Reason ?? "Error", $"init container exited with code {terminated.ExitCode}",
                new PodCause.InitContainerExited(podName, container), pod.Spec?.RestartPolicy == "Never");
        return null;
    }

    /// <summary>Which registry refused, and for ECR its account and region (the node role's permissions live there).</summary>
    private static PodCause.PullUnauthorized Unauthorized(string image)
    {
        var host = ImageReference.Parse(image).Registry;
        return EcrHost().Match(host) is { Success: true } ecr
            ? new PodCause.PullUnauthorized(image, host, ecr.Groups["account"].Value, ecr.Groups["region"].Value)
            : new PodCause.PullUnauthorized(image, host, null, null);
    }

    /// <summary>A missing image compared with what this run pushed: which digest was expected, and why they differ.</summary>
    private static PodCause NotFound(string image, IReadOnlyDictionary<string, string> pushed)
    {
        var reference = ImageReference.Parse(image);
        if (!pushed.TryGetValue(reference.Repository, out var expected))
            return new PodCause.ImageNotPushed(image, reference.Repository);
        if (reference.Digest == expected)
            return new PodCause.PushedDigestGone(image);
        return new PodCause.OtherImagePinned(image, reference.Repository, expected, reference.Digest, reference.Digest is null ? reference.Tag : null);
    }

    private static PodProblem MissingConfig(string podName, string container, string message, string? ns)
    {
        var keyMatch = MissingKeyPattern().Match(message);
        var objectMatch = MissingObjectPattern().Match(message);
        PodCause cause = keyMatch.Success ? new PodCause.MissingKey(keyMatch.Groups["key"].Value, keyMatch.Groups["kind"].Value, keyMatch.Groups["ref"].Value)
            : objectMatch.Success ? new PodCause.MissingObject(objectMatch.Groups["kind"].Value, objectMatch.Groups["name"].Value, ns)
            : new PodCause.MissingReference();
        return new PodProblem(podName, container, "CreateContainerConfigError", message, cause, IsTerminal: true);
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
