using System.Collections.Concurrent;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;

namespace Tesslate.Build.Platform;

/// <summary>
/// One release operation's part of the record: what its workloads ran before the first change, the guard its
/// changes passed, the rollback it made with --rollback-on-failure and the record it wrote on success.
/// </summary>
public sealed class ReleaseOperation(ReleaseKind kind)
{
    public ReleaseKind Kind => kind;

    public Handoff<IReadOnlyList<WorkloadState>> Before { get; } = new($"{kind} (what its workloads ran before)");
    public Handoff<GuardReport> Guard { get; } = new($"{kind} (its release guard)");
    public Handoff<RollbackResult> RolledBack { get; } = new($"{kind} (its rollback)");
    public Handoff<ReleaseRecord> Recorded { get; } = new($"{kind} (its release record)");

    public IReadOnlyList<WorkloadState> BeforeOrEmpty => Before.ValueOrDefault ?? [];

    /// <summary>Objects this operation took over from client-side kubectl apply (its record lists them).</summary>
    public ConcurrentQueue<AppliedObject> TakenOver { get; } = new();

    /// <summary>Keeps the objects of an apply whose field ownership moved from client-side kubectl apply.</summary>
    public void TookOver(IEnumerable<AppliedObject> objects)
    {
        foreach (var taken in objects.Where(o => o.TakenOverFrom.Count > 0))
            TakenOver.Enqueue(taken);
    }

    /// <summary>What the release's workloads run before anything is applied: the "before" of the history record.</summary>
    public async Task CaptureBeforeAsync(KubeCluster cluster, IEnumerable<ObjectRef> workloads, CancellationToken cancellationToken) =>
        Before.Set(await new WorkloadSnapshot(cluster).CaptureAsync(workloads, cancellationToken));
}
