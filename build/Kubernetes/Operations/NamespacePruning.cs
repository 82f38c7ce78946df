using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using Serilog;

namespace Tesslate.Build.Kubernetes.Operations;

public sealed record NamespaceUsage(string Name, DateTimeOffset? Created, int Pods, int Workloads, bool Terminating, bool Keep);

public sealed record PruneCandidate(string Name, TimeSpan Age);

/// <summary>
/// Finds namespaces with a prefix that nothing lives in any more (no pods, no Deployments or StatefulSets, older
/// than a threshold, not already terminating, not labelled to be kept) and deletes those the caller confirmed.
/// </summary>
public sealed class NamespacePruning(KubeCluster cluster, ILogger logger)
{
    /// <summary>A namespace with this label set to "true" is never a candidate.</summary>
    public const string KeepLabel = "tesslate.io/keep";

    /// <summary>Pure: is the namespace empty, old enough, and not protected?</summary>
    public static PruneCandidate? Judge(NamespaceUsage usage, TimeSpan minimumAge, DateTimeOffset now)
    {
        if (usage.Terminating || usage.Keep || usage.Pods > 0 || usage.Workloads > 0 || usage.Created is null)
            return null;
        var age = now - usage.Created.Value;
        return age >= minimumAge ? new PruneCandidate(usage.Name, age) : null;
    }

    public async Task<IReadOnlyList<NamespaceUsage>> SurveyAsync(string prefix, CancellationToken cancellationToken)
    {
        var namespaces = await cluster.ListAsync(await cluster.RequireAsync("v1", "Namespace", cancellationToken), null, null, null, cancellationToken);
        var pods = await cluster.RequireAsync("v1", "Pod", cancellationToken);
        var workloadKinds = new[] { await cluster.RequireAsync("apps/v1", "Deployment", cancellationToken), await cluster.RequireAsync("apps/v1", "StatefulSet", cancellationToken) };
        var result = new List<NamespaceUsage>();
        foreach (var ns in namespaces.Where(n => ((string?)n["metadata"]?["name"] ?? "").StartsWith(prefix, StringComparison.Ordinal)))
        {
            var name = (string)ns["metadata"]!["name"]!;
            var podCount = (await cluster.ListAsync(pods, name, null, null, cancellationToken)).Count;
            var workloads = 0;
            foreach (var kind in workloadKinds)
                workloads += (await cluster.ListAsync(kind, name, null, null, cancellationToken)).Count;
            DateTimeOffset? created = DateTimeOffset.TryParse((string?)ns["metadata"]?["creationTimestamp"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var c) ? c : null;
            var terminating = (string?)ns["status"]?["phase"] == "Terminating" || ns["metadata"]?["deletionTimestamp"] is not null;
            var keep = (string?)(ns["metadata"]?["labels"] as JsonObject)?[KeepLabel] == "true";
            result.Add(new NamespaceUsage(name, created, podCount, workloads, terminating, keep));
        }
        return result;
    }

    public async Task<IReadOnlyList<PruneCandidate>> FindAsync(string prefix, TimeSpan minimumAge, DateTimeOffset now, CancellationToken cancellationToken) =>
        [.. (await SurveyAsync(prefix, cancellationToken)).Select(u => Judge(u, minimumAge, now)).OfType<PruneCandidate>()];

    /// <summary>Deletes the namespaces (call only after the user confirmed the list).</summary>
    public async Task DeleteAsync(IEnumerable<PruneCandidate> candidates, bool dryRun, CancellationToken cancellationToken)
    {
        foreach (var candidate in candidates)
        {
            if (!dryRun)
                await cluster.Client.CoreV1.DeleteNamespaceAsync(candidate.Name, cancellationToken: cancellationToken);
            logger.Information("{Prefix}namespace {Name} deleted (empty for {Age})", dryRun ? "[dry-run] " : "", candidate.Name, Engine.Durations.Format(candidate.Age));
        }
    }
}
