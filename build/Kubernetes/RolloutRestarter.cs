using System.Globalization;
using System.Text.Json.Nodes;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

public enum RestartOutcome
{
    Restarted,
    AlreadyRolled,
    DryRun,
}

/// <summary>
/// <c>kubectl rollout restart</c> through the API (the <c>kubectl.kubernetes.io/restartedAt</c> pod-template
/// annotation, as a strategic-merge patch), for the workloads the caller names only, and at most once per workload
/// per run: a workload already rolled by this run (by an earlier restart, or by an apply that changed its pod
/// template) is not rolled again.
/// </summary>
public sealed class RolloutRestarter(KubeCluster cluster, ILogger logger, bool dryRun = false, TimeProvider? time = null, string fieldManager = FieldManagers.Pipeline)
{
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";

    private readonly HashSet<ObjectRef> _rolled = [];
    private readonly Lock _gate = new();

    public IReadOnlyCollection<ObjectRef> Rolled
    {
        get
        {
            lock (_gate)
                return [.. _rolled];
        }
    }

    /// <summary>Records workloads this run rolled some other way (e.g. <see cref="ApplyReport.RolledWorkloads"/>).</summary>
    public void MarkRolled(IEnumerable<ObjectRef> workloads)
    {
        lock (_gate)
            foreach (var workload in workloads)
                _rolled.Add(Normalize(workload));
    }

    public async Task<RestartOutcome> RestartAsync(ObjectRef workload, CancellationToken cancellationToken)
    {
        workload = workload with { Kind = PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind };
        if (!PodTemplates.RolloutKinds.Contains(workload.Kind))
            throw new UsageException($"{workload} cannot be restarted: only Deployments, DaemonSets and StatefulSets can.", "Name a Deployment, DaemonSet or StatefulSet.");
        if (workload.Namespace is null)
            throw new UsageException($"{workload} needs a namespace to be restarted.");
        var key = Normalize(workload);
        lock (_gate)
        {
            if (!_rolled.Add(key))
            {
                logger.Information("{Workload}: already rolled in this run, not restarted again", workload);
                return RestartOutcome.AlreadyRolled;
            }
        }
        if (dryRun)
        {
            logger.Information("[dry-run] {Workload}: would restart ({Annotation})", workload, RestartedAtAnnotation);
            return RestartOutcome.DryRun;
        }
        var resource = await cluster.RequireAsync("apps/v1", workload.Kind, cancellationToken);
        var now = (time ?? TimeProvider.System).GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture);
        var patch = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [RestartedAtAnnotation] = now } },
                },
            },
        };
        try
        {
            await cluster.StrategicPatchAsync(resource, workload.Namespace, workload.Name, patch, fieldManager, cancellationToken);
        }
        catch (KubeApiException e)
        {
            lock (_gate)
                _rolled.Remove(key);
            throw new BuildFailure($"Restarting {workload} failed: {e.Message}",
                e.Status == System.Net.HttpStatusCode.NotFound ? "The workload does not exist: apply the overlay first or check its name." : "Check the role's permission to patch it.");
        }
        logger.Information("{Workload}: rolling restart", workload);
        return RestartOutcome.Restarted;
    }

    private static ObjectRef Normalize(ObjectRef workload) => workload with { Kind = PodTemplates.RolloutKind(workload.Kind) ?? workload.Kind };
}
