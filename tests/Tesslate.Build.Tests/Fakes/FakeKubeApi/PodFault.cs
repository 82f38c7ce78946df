namespace Tesslate.Build.Tests.Fakes;

public enum PodFailure
{
    /// <summary>Waiting ErrImagePull at first, then ImagePullBackOff; Failed and BackOff events carry the pull error.</summary>
    ImagePull,

    /// <summary>Waiting CrashLoopBackOff with lastState.terminated (reason Error, the exit code) and previous logs.</summary>
    CrashLoopBackOff,

    /// <summary>Waiting CreateContainerConfigError, e.g. a secret that does not exist.</summary>
    CreateContainerConfigError,

    /// <summary>Waiting CrashLoopBackOff with lastState.terminated reason OOMKilled, exit code 137.</summary>
    OomKilled,

    /// <summary>Pending, PodScheduled=False reason Unschedulable, and a FailedScheduling event.</summary>
    Unschedulable,

    /// <summary>Running but never Ready, with Unhealthy events from the readiness probe.</summary>
    ReadinessFailure,
}

/// <summary>
/// A failure the fake's kubelet shows for pods of one workload that have not become Ready yet (pods already Ready keep
/// running, as when a rollout stalls on its new ReplicaSet). Container null means the pod's first container.
/// </summary>
public sealed record PodFault(PodFailure Failure, string Message, string? Container = null, int ExitCode = 1, IReadOnlyList<string>? PreviousLogs = null)
{
    public const string DefaultUnschedulable =
        "0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";

    /// <summary>A pull failure with the registry's error text, e.g. "unauthorized: authentication required".</summary>
    public static PodFault ImagePull(string registryError, string? container = null) => new(PodFailure.ImagePull, registryError, container);

    public static PodFault ImagePullUnauthorized(string? container = null) =>
        ImagePull("failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized: unauthorized: authentication required", container);

    public static PodFault ImageNotFound(string? container = null) => ImagePull("not found", container);

    public static PodFault ImagePlatformMismatch(string? container = null) =>
        ImagePull("no match for platform in manifest: not found", container);

    public static PodFault CrashLoop(int exitCode, IReadOnlyList<string> previousLogs, string? container = null) =>
        new(PodFailure.CrashLoopBackOff, "Error", container, exitCode, previousLogs);

    public static PodFault MissingSecret(string secret, string? container = null) =>
        new(PodFailure.CreateContainerConfigError, $"secret \"{secret}\" not found", container);

    public static PodFault MissingSecretKey(string secret, string key, string? container = null) =>
        new(PodFailure.CreateContainerConfigError, $"couldn't find key {key} in Secret {secret}", container);

    public static PodFault OutOfMemory(IReadOnlyList<string>? previousLogs = null, string? container = null) =>
        new(PodFailure.OomKilled, "OOMKilled", container, 137, previousLogs);

    public static PodFault Unschedulable(string message = DefaultUnschedulable) => new(PodFailure.Unschedulable, message);

    public static PodFault ReadinessProbe(string message = "Readiness probe failed: HTTP probe failed with statuscode: 503", string? container = null) =>
        new(PodFailure.ReadinessFailure, message, container);
}

/// <summary>Pod faults by workload (Deployment, DaemonSet, StatefulSet or bare ReplicaSet name) and namespace.</summary>
public sealed class PodFaults
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Namespace, string Workload), PodFault> _faults = [];

    public void Inject(string @namespace, string workload, PodFault fault)
    {
        lock (_gate)
        {
            _faults[(@namespace, workload)] = fault;
        }
    }

    public void Clear(string @namespace, string workload)
    {
        lock (_gate)
        {
            _faults.Remove((@namespace, workload));
        }
    }

    public void ClearAll()
    {
        lock (_gate)
        {
            _faults.Clear();
        }
    }

    internal PodFault? For(string @namespace, string workload)
    {
        lock (_gate)
        {
            return _faults.GetValueOrDefault((@namespace, workload));
        }
    }
}
