using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

public enum ReleaseKind
{
    Deploy,
    Rollback,
    Scale,
    SafeShutdown,

    /// <summary>The overlay applied again (pinned) and workloads restarted, or restarts alone.</summary>
    Reload,

    /// <summary>The compute layer released on its own.</summary>
    DeployCompute,
}

public enum ReleaseOutcome
{
    Succeeded,
    Failed,

    /// <summary>Failed, then <c>--rollback-on-failure</c> restored what ran before.</summary>
    RolledBack,
}

/// <summary>One workload in a release: container name → image reference (repository@digest), and replicas, before and after.</summary>
public sealed record WorkloadRelease(
    ObjectRef Workload,
    IReadOnlyDictionary<string, string> ImagesBefore,
    IReadOnlyDictionary<string, string> ImagesAfter,
    int? ReplicasBefore = null,
    int? ReplicasAfter = null)
{
    public bool ImagesChanged => !ImagesBefore.OrderBy(p => p.Key).SequenceEqual(ImagesAfter.OrderBy(p => p.Key));
}

/// <summary>
/// One entry of the release history. <see cref="Id"/> is a number that grows by one per record (what a user types
/// after <c>--release</c>); <see cref="Images"/> is what the release deployed, repository → digest.
/// </summary>
public sealed record ReleaseRecord(
    string Id,
    ReleaseKind Kind,
    string RunId,
    string Who,
    string Where,
    DateTimeOffset At,
    string? GitSha,
    ReleaseOutcome Outcome,
    IReadOnlyList<WorkloadRelease> Workloads,
    IReadOnlyDictionary<string, string> Images,
    string? Message = null,
    string? RestoredRelease = null)
{
    /// <summary>The application repository's commit the release built and deployed (<see cref="GitSha"/> is this repository's).</summary>
    public string? ApplicationCommit { get; init; }

    /// <summary>A record to append (the history assigns its id).</summary>
    public static ReleaseRecord Create(ReleaseKind kind, LockHolder actor, string? gitSha, ReleaseOutcome outcome, IReadOnlyList<WorkloadRelease> workloads,
        IReadOnlyDictionary<string, string>? images = null, string? message = null, DateTimeOffset? at = null) =>
        new("", kind, actor.RunId, actor.Who, actor.Where, at ?? DateTimeOffset.UtcNow, gitSha, outcome, workloads,
            images ?? WorkloadSnapshot.DeployedDigests(workloads.Select(w => new WorkloadState(w.Workload, w.ImagesAfter, w.ReplicasAfter))), message);

    /// <summary>Objects whose field ownership this release moved from client-side kubectl apply (once per object).</summary>
    public IReadOnlyList<string>? TakenOver { get; init; }

    /// <summary>Data volume changes the release made because --allow-volume-change named them.</summary>
    public IReadOnlyList<string>? AllowedVolumeChanges { get; init; }

    /// <summary>Whether the release changed what any workload runs (a Scale, a SafeShutdown or a plain restart does not).</summary>
    [JsonIgnore]
    public bool ChangedImages => Workloads.Any(w => w.ImagesChanged);

    public string Summary =>
        $"#{Id} {Kind} {Outcome} {At.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC by {Who}"
        + (GitSha is null ? "" : $" at {GitSha[..Math.Min(12, GitSha.Length)]}")
        + (ApplicationCommit is null ? "" : $", application {ApplicationCommit[..Math.Min(12, ApplicationCommit.Length)]}")
        + $" ({Workloads.Count(w => w.ImagesChanged)} workload(s) changed)";
}

/// <summary>Pure operations on the list of records (oldest first).</summary>
public static class ReleaseLog
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Appends with the next id and keeps the newest <paramref name="keep"/>.</summary>
    public static (IReadOnlyList<ReleaseRecord> Records, ReleaseRecord Added) Append(IReadOnlyList<ReleaseRecord> records, ReleaseRecord draft, int keep)
    {
        var next = records.Select(r => long.TryParse(r.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0).DefaultIfEmpty(0).Max() + 1;
        var added = draft with { Id = next.ToString(CultureInfo.InvariantCulture) };
        return ([.. records.Append(added).TakeLast(keep)], added);
    }

    public static ReleaseRecord? LastSuccessful(IReadOnlyList<ReleaseRecord> records, ReleaseKind? kind = null) =>
        records.LastOrDefault(r => r.Outcome == ReleaseOutcome.Succeeded && (kind is null || r.Kind == kind));

    public static ReleaseRecord? Find(IReadOnlyList<ReleaseRecord> records, string id) =>
        records.FirstOrDefault(r => r.Id == id.TrimStart('#'));

    /// <summary>The newest records, one line each, for error messages and the dry run.</summary>
    public static string Recent(IReadOnlyList<ReleaseRecord> records, int count = 10) =>
        records.Count == 0 ? "  (no releases recorded)" : string.Join(Environment.NewLine, records.TakeLast(count).Reverse().Select(r => "  " + r.Summary));

    public static string Serialize(IReadOnlyList<ReleaseRecord> records) => JsonSerializer.Serialize(records, Json);

    public static IReadOnlyList<ReleaseRecord> Deserialize(string? text) =>
        string.IsNullOrWhiteSpace(text) ? [] : JsonSerializer.Deserialize<List<ReleaseRecord>>(text, Json) ?? [];
}

public sealed record ReleaseHistoryOptions(string Namespace, string Name)
{
    /// <summary>Records kept; older ones are dropped on append.</summary>
    public int Keep { get; init; } = 50;

    /// <summary>The ConfigMap key holding the JSON array.</summary>
    public string Key { get; init; } = "releases.json";

    public string Display => $"ConfigMap {Namespace}/{Name}";
}

/// <summary>
/// The release history in a ConfigMap in the cluster, so any machine (a laptop or CI) sees and can roll back what
/// another deployed. Appends are optimistic: the replace carries the resourceVersion read; a 409 reads again.
/// </summary>
public sealed class ReleaseHistory(IKubernetes client, ReleaseHistoryOptions options, ILogger logger)
{
    private const int MaxAttempts = 8;

    public ReleaseHistoryOptions Options => options;

    /// <summary>All records, oldest first; empty when the ConfigMap or its namespace does not exist.</summary>
    public async Task<IReadOnlyList<ReleaseRecord>> ReadAsync(CancellationToken cancellationToken)
    {
        var map = await ReadMapAsync(cancellationToken);
        return Parse(map);
    }

    public async Task<ReleaseRecord?> LastSuccessfulAsync(ReleaseKind? kind, CancellationToken cancellationToken) =>
        ReleaseLog.LastSuccessful(await ReadAsync(cancellationToken), kind);

    public async Task<ReleaseRecord?> FindAsync(string id, CancellationToken cancellationToken) =>
        ReleaseLog.Find(await ReadAsync(cancellationToken), id);

    /// <summary>Appends a record (its Id is assigned here) and returns it as stored.</summary>
    public async Task<ReleaseRecord> AppendAsync(ReleaseRecord draft, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var map = await ReadMapAsync(cancellationToken);
            var (records, added) = ReleaseLog.Append(Parse(map), draft, options.Keep);
            try
            {
                if (map is null)
                {
                    await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
                    {
                        Metadata = new V1ObjectMeta { Name = options.Name, NamespaceProperty = options.Namespace },
                        Data = new Dictionary<string, string> { [options.Key] = ReleaseLog.Serialize(records) },
                    }, options.Namespace, cancellationToken: cancellationToken);
                }
                else
                {
                    map.Data ??= new Dictionary<string, string>();
                    map.Data[options.Key] = ReleaseLog.Serialize(records);
                    await client.CoreV1.ReplaceNamespacedConfigMapAsync(map, options.Name, options.Namespace, cancellationToken: cancellationToken);
                }
                logger.Information("Release {Summary} recorded in {History}", added.Summary, options.Display);
                return added;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < MaxAttempts)
            {
                logger.Debug("{History} changed while appending (attempt {Attempt}); reading it again", options.Display, attempt);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                throw new BuildFailure($"{options.Display} kept changing while this run tried to record its release.", "Another run is writing the history; record again later.");
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new BuildFailure($"Cannot record the release: the namespace {options.Namespace} does not exist.", "Apply the manifests (which create it) before recording a release.");
            }
        }
    }

    private async Task<V1ConfigMap?> ReadMapAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await client.CoreV1.ReadNamespacedConfigMapAsync(options.Name, options.Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private IReadOnlyList<ReleaseRecord> Parse(V1ConfigMap? map)
    {
        try
        {
            return ReleaseLog.Deserialize(map?.Data is { } data && data.TryGetValue(options.Key, out var text) ? text : null);
        }
        catch (JsonException e)
        {
            throw new BuildFailure($"{options.Display} key {options.Key} is not a release history: {e.Message}",
                $"Repair or delete it (kubectl delete configmap {options.Name} -n {options.Namespace}); the next release starts a new history.");
        }
    }
}
