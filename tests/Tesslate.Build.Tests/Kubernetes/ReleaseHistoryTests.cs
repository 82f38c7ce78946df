using k8s;
using k8s.Models;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Release;

public sealed class ReleaseHistoryTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static ReleaseRecord Draft(string runId, ReleaseOutcome outcome = ReleaseOutcome.Succeeded, string ns = "tesslate", char before = 'a', char after = 'b') =>
        new("", ReleaseKind.Deploy, runId, "alice", "laptop", DateTimeOffset.UtcNow, "0123456789abcdef0123", outcome,
            [new WorkloadRelease(new ObjectRef("Deployment", ns, "app"),
                new Dictionary<string, string> { ["app"] = ReleaseTestBed.Image(before) },
                new Dictionary<string, string> { ["app"] = ReleaseTestBed.Image(after) }, 1, 1)],
            new Dictionary<string, string> { [ReleaseTestBed.Repo] = ReleaseTestBed.Digest(after) });

    private ReleaseHistory History(string ns, int keep = 50) =>
        new(fixture.Api.CreateClient(), new ReleaseHistoryOptions(ns, "deploy-history") { Keep = keep }, new LogCapture().Logger);

    [Fact]
    public async Task Records_are_appended_with_growing_ids_and_read_back_from_any_client()
    {
        var ns = await fixture.NewNamespaceAsync("hist");
        var first = await History(ns).AppendAsync(Draft("run-1"), Ct);
        var second = await History(ns).AppendAsync(Draft("run-2", ReleaseOutcome.Failed), Ct);

        var read = await History(ns).ReadAsync(Ct);

        Assert.Equal(["1", "2"], read.Select(r => r.Id));
        Assert.Equal("1", first.Id);
        Assert.Equal("2", second.Id);
        Assert.Equal(ReleaseTestBed.Image('b'), read[0].Workloads[0].ImagesAfter["app"]);
        Assert.Equal(ReleaseOutcome.Failed, read[1].Outcome);
        Assert.Equal("run-1", (await History(ns).LastSuccessfulAsync(ReleaseKind.Deploy, Ct))?.RunId);
        Assert.Equal("run-2", (await History(ns).FindAsync("#2", Ct))?.RunId);
        Assert.Null(await History(ns).FindAsync("9", Ct));
    }

    [Fact]
    public async Task Only_the_last_fifty_releases_are_kept()
    {
        var ns = await fixture.NewNamespaceAsync("hist");
        for (var i = 1; i <= 53; i++)
            await History(ns).AppendAsync(Draft($"run-{i}"), Ct);

        var read = await History(ns).ReadAsync(Ct);

        Assert.Equal(50, read.Count);
        Assert.Equal("4", read[0].Id);
        Assert.Equal("53", read[^1].Id);
    }

    [Fact]
    public async Task Concurrent_appends_from_several_machines_lose_nothing()
    {
        var ns = await fixture.NewNamespaceAsync("hist");
        await Task.WhenAll(Enumerable.Range(1, 8).Select(i => History(ns).AppendAsync(Draft($"run-{i}"), Ct)));

        var read = await History(ns).ReadAsync(Ct);

        Assert.Equal(8, read.Count);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => $"run-{i}").Order(), read.Select(r => r.RunId).Order());
        Assert.Equal(read.Select(r => r.Id).Distinct().Count(), read.Count);
    }

    [Fact]
    public async Task A_missing_history_reads_as_empty()
    {
        Assert.Empty(await History("no-such-namespace").ReadAsync(Ct));
        var ns = await fixture.NewNamespaceAsync("hist");
        Assert.Empty(await History(ns).ReadAsync(Ct));
    }

    [Fact]
    public void The_bound_drops_the_oldest_and_ids_keep_growing()
    {
        IReadOnlyList<ReleaseRecord> records = [];
        for (var i = 0; i < 5; i++)
            records = ReleaseLog.Append(records, Draft($"r{i}"), keep: 3).Records;
        Assert.Equal(["3", "4", "5"], records.Select(r => r.Id));
        Assert.Equal(records, ReleaseLog.Deserialize(ReleaseLog.Serialize(records)), new RecordIds());
        Assert.Contains("#5 Deploy Succeeded", ReleaseLog.Recent(records));
    }

    [Fact]
    public async Task A_history_that_is_not_json_names_the_configmap_and_the_fix()
    {
        var ns = await fixture.NewNamespaceAsync("hist");
        await fixture.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "deploy-history" },
            Data = new Dictionary<string, string> { ["releases.json"] = "{not json" },
        }, ns, cancellationToken: Ct);

        var e = await Assert.ThrowsAsync<BuildFailure>(() => History(ns).ReadAsync(Ct));

        Assert.Contains($"ConfigMap {ns}/deploy-history", e.Problem);
        Assert.Contains("kubectl delete configmap deploy-history", e.Fix);
    }

    private sealed class RecordIds : IEqualityComparer<ReleaseRecord>
    {
        public bool Equals(ReleaseRecord? x, ReleaseRecord? y) => x?.Id == y?.Id && x?.RunId == y?.RunId && x?.Workloads[0].ImagesAfter["app"] == y?.Workloads[0].ImagesAfter["app"];

        public int GetHashCode(ReleaseRecord obj) => obj.Id.GetHashCode(StringComparison.Ordinal);
    }
}
