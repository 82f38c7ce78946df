using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using k8s;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes.Operations;

public sealed record ReplicaRecord(ObjectRef Workload, int Replicas);

/// <summary>
/// Scales Deployments and StatefulSets by patching <c>spec.replicas</c> (what a role allowed to patch deployments may
/// do), and parks workloads at zero with their previous count kept in an annotation on the workload itself, so a
/// later run (another machine, another person) can restore exactly what was there.
/// </summary>
public sealed class ReplicaControl(KubeCluster cluster, ILogger logger, bool dryRun = false, string fieldManager = FieldManagers.Pipeline)
{
    /// <param name="parameter">How the caller's user gives the count (the pipeline: <c>--replicas</c>), for the messages.</param>
    public static void ValidateCount(int? replicas, string parameter)
    {
        if (replicas is null)
            throw new UsageException($"{parameter} is required.", $"Give the number of replicas, e.g. {parameter} 2.");
        if (replicas < 0)
            throw new UsageException($"{parameter} {replicas} is negative.", $"Give 0 or more, e.g. {parameter} 2 (0 stops the workload).");
    }

    /// <summary>The workload's spec.replicas; null when it does not exist.</summary>
    public async Task<int?> GetReplicasAsync(ObjectRef workload, CancellationToken cancellationToken)
    {
        var obj = await GetAsync(workload, cancellationToken);
        return obj is null ? null : (int?)obj["spec"]?["replicas"] ?? 1;
    }

    /// <summary>Sets the workload's replicas; returns what it had, or null when it does not exist (nothing changed).</summary>
    public async Task<ReplicaRecord?> ScaleAsync(ObjectRef workload, int replicas, CancellationToken cancellationToken)
    {
        ValidateCount(replicas, "the replica count");
        if (await GetReplicasAsync(workload, cancellationToken) is not { } before)
            return null;
        await PatchAsync(workload, new JsonObject { ["spec"] = new JsonObject { ["replicas"] = replicas } }, cancellationToken);
        logger.Information("{Prefix}{Workload}: replicas {Before} → {After}", dryRun ? "[dry-run] " : "", workload, before, replicas);
        return new ReplicaRecord(workload, before);
    }

    /// <summary>
    /// Scales each workload to zero and records its count in <paramref name="annotation"/>. A workload already at zero
    /// with a recorded count keeps that record (a second shutdown must not overwrite the real count with 0).
    /// Returns the recorded counts.
    /// </summary>
    public async Task<IReadOnlyList<ReplicaRecord>> ParkAsync(IReadOnlyList<ObjectRef> workloads, string annotation, CancellationToken cancellationToken)
    {
        var records = new List<ReplicaRecord>();
        foreach (var workload in workloads)
        {
            var obj = await GetAsync(workload, cancellationToken)
                ?? throw new BuildFailure($"{workload} does not exist in {cluster.DisplayName}; nothing was scaled after it.", "Check that the environment's overlay is applied.");
            var current = (int?)obj["spec"]?["replicas"] ?? 1;
            var recorded = Recorded(obj, annotation);
            var keep = current == 0 && recorded is not null ? recorded.Value : current;
            await PatchAsync(workload, new JsonObject
            {
                ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [annotation] = keep.ToString(CultureInfo.InvariantCulture) } },
                ["spec"] = new JsonObject { ["replicas"] = 0 },
            }, cancellationToken);
            logger.Information("{Prefix}{Workload}: replicas {Current} → 0 (recorded {Keep})", dryRun ? "[dry-run] " : "", workload, current, keep);
            records.Add(new ReplicaRecord(workload, keep));
        }
        return records;
    }

    /// <summary>The counts recorded on the workloads (those without a record are left out).</summary>
    public async Task<IReadOnlyList<ReplicaRecord>> FindRecordedAsync(IReadOnlyList<ObjectRef> workloads, string annotation, CancellationToken cancellationToken)
    {
        var found = new List<ReplicaRecord>();
        foreach (var workload in workloads)
        {
            var obj = await GetAsync(workload, cancellationToken);
            if (obj is not null && Recorded(obj, annotation) is { } count)
                found.Add(new ReplicaRecord(workload, count));
        }
        return found;
    }

    /// <summary>Restores the recorded counts and removes the records; none recorded: an empty list, and nothing changed.</summary>
    public async Task<IReadOnlyList<ReplicaRecord>> RestoreAsync(IReadOnlyList<ObjectRef> workloads, string annotation, CancellationToken cancellationToken)
    {
        var found = await FindRecordedAsync(workloads, annotation, cancellationToken);
        if (found.Count == 0)
            return found;
        await RestoreAsync(found, annotation, cancellationToken);
        return found;
    }

    /// <summary>Sets each workload to its recorded count and removes the annotation; a workload deleted meanwhile is skipped.</summary>
    public async Task RestoreAsync(IReadOnlyList<ReplicaRecord> records, string annotation, CancellationToken cancellationToken)
    {
        foreach (var record in records)
        {
            if (await GetAsync(record.Workload, cancellationToken) is null)
            {
                logger.Warning("{Workload} no longer exists (deleted since it was recorded): skipped", record.Workload);
                continue;
            }
            await PatchAsync(record.Workload, new JsonObject
            {
                ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [annotation] = null } },
                ["spec"] = new JsonObject { ["replicas"] = record.Replicas },
            }, cancellationToken);
            logger.Information("{Prefix}{Workload}: replicas → {Replicas} (restored)", dryRun ? "[dry-run] " : "", record.Workload, record.Replicas);
        }
    }

    /// <summary>The Deployments and StatefulSets of the namespaces the filter selects (one cluster-wide list per kind).</summary>
    public async Task<IReadOnlyList<ObjectRef>> ListScalableAsync(Func<string, bool> namespaceFilter, CancellationToken cancellationToken)
    {
        var found = new List<ObjectRef>();
        foreach (var kind in new[] { "Deployment", "StatefulSet" })
        {
            var resource = await cluster.RequireAsync("apps/v1", kind, cancellationToken);
            found.AddRange((await cluster.ListAsync(resource, null, null, null, cancellationToken))
                .Select(o => new ObjectRef(kind, (string?)o["metadata"]?["namespace"] ?? "", (string?)o["metadata"]?["name"] ?? ""))
                .Where(w => w.Namespace is { } ns && namespaceFilter(ns))
                .OrderBy(w => w.Namespace, StringComparer.Ordinal).ThenBy(w => w.Name, StringComparer.Ordinal));
        }
        return found;
    }

    /// <summary>
    /// Deletes the pods no controller owns in the namespaces the filter selects; owned pods are left to their
    /// controller (deleting them would only make it start new ones). Returns the deleted pods.
    /// </summary>
    public async Task<IReadOnlyList<ObjectRef>> DeleteUnownedPodsAsync(Func<string, bool> namespaceFilter, CancellationToken cancellationToken)
    {
        var pods = await cluster.Client.CoreV1.ListPodForAllNamespacesAsync(cancellationToken: cancellationToken);
        var deleted = new List<ObjectRef>();
        foreach (var pod in pods.Items.Where(p => namespaceFilter(p.Metadata.NamespaceProperty ?? "") && (p.Metadata.OwnerReferences?.Count ?? 0) == 0))
        {
            var podRef = new ObjectRef("Pod", pod.Metadata.NamespaceProperty, pod.Metadata.Name);
            if (!dryRun)
            {
                try
                {
                    await cluster.Client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
                }
                catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    continue;
                }
            }
            logger.Information("{Prefix}{Pod}: deleted", dryRun ? "[dry-run] " : "", podRef);
            deleted.Add(podRef);
        }
        return deleted;
    }

    public static int? Recorded(JsonObject workload, string annotation) =>
        int.TryParse((string?)workload["metadata"]?["annotations"]?[annotation], NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : null;

    private async Task<JsonObject?> GetAsync(ObjectRef workload, CancellationToken cancellationToken)
    {
        var resource = await cluster.RequireAsync("apps/v1", PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind, cancellationToken);
        return await cluster.GetAsync(resource, workload.Namespace, workload.Name, cancellationToken);
    }

    private async Task PatchAsync(ObjectRef workload, JsonObject patch, CancellationToken cancellationToken)
    {
        if (dryRun)
            return;
        var resource = await cluster.RequireAsync("apps/v1", PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind, cancellationToken);
        try
        {
            await cluster.StrategicPatchAsync(resource, workload.Namespace, workload.Name, patch, fieldManager, cancellationToken);
        }
        catch (KubeApiException e)
        {
            throw new BuildFailure($"Scaling {workload} failed: {e.Message}",
                e.Status == HttpStatusCode.Forbidden ? "The role needs patch on the workload (deployer or above)." : "Check the workload exists and the cluster answers.");
        }
    }
}
