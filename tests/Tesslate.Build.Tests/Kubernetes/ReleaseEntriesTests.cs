using System.Text.Json.Nodes;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>
/// A release is more than Deployments: CronJobs run the backend image and the runtime-images ConfigMap names the
/// images the backend starts. Both are recorded, promoted and rolled back like a workload's containers.
/// </summary>
public sealed class ReleaseEntriesTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Devserver = "registry.test/devserver";
    private static readonly LockHolder Actor = new("alice", "laptop", "run-entries");

    private static KubeObject RuntimeImages(string ns, char devserver) => new(new JsonObject
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ConfigMap",
        ["metadata"] = new JsonObject { ["name"] = "tesslate-runtime-images", ["namespace"] = ns },
        ["data"] = new JsonObject { ["devserver"] = ReleaseTestBed.Image(devserver, Devserver) },
    });

    private static KubeObject CronJob(string ns, char image) => new(new JsonObject
    {
        ["apiVersion"] = "batch/v1",
        ["kind"] = "CronJob",
        ["metadata"] = new JsonObject { ["name"] = "namespace-reaper", ["namespace"] = ns },
        ["spec"] = new JsonObject
        {
            ["schedule"] = "*/5 * * * *",
            ["jobTemplate"] = new JsonObject
            {
                ["spec"] = new JsonObject
                {
                    ["template"] = new JsonObject
                    {
                        ["spec"] = new JsonObject
                        {
                            ["restartPolicy"] = "Never",
                            ["containers"] = new JsonArray(new JsonObject { ["name"] = "reaper", ["image"] = ReleaseTestBed.Image(image) }),
                        },
                    },
                },
            },
        },
    });

    [Fact]
    public async Task The_runtime_images_and_cronjobs_are_recorded_before_and_after_and_their_digests_deployed()
    {
        using var bed = await ReleaseTestBed.CreateAsync(fixture);
        var entries = new[] { new ObjectRef("ConfigMap", bed.Namespace, "tesslate-runtime-images"), new ObjectRef("CronJob", bed.Namespace, "namespace-reaper") };
        await bed.ApplyAsync(RuntimeImages(bed.Namespace, 'd'), CronJob(bed.Namespace, 'a'));
        var snapshot = new WorkloadSnapshot(bed.Cluster);
        var before = await snapshot.CaptureAsync(entries, Ct);

        await bed.ApplyAsync(RuntimeImages(bed.Namespace, 'e'), CronJob(bed.Namespace, 'b'));
        var changes = WorkloadSnapshot.Compare(before, await snapshot.CaptureAsync(entries, Ct));
        var record = ReleaseRecord.Create(ReleaseKind.Deploy, Actor, "feedface", ReleaseOutcome.Succeeded, changes);

        var configMap = changes.Single(c => c.Workload.Kind == "ConfigMap");
        Assert.Equal(ReleaseTestBed.Image('d', Devserver), configMap.ImagesBefore["devserver"]);
        Assert.Equal(ReleaseTestBed.Image('e', Devserver), configMap.ImagesAfter["devserver"]);
        var cronJob = changes.Single(c => c.Workload.Kind == "CronJob");
        Assert.Equal(ReleaseTestBed.Image('a'), cronJob.ImagesBefore["reaper"]);
        Assert.Equal(ReleaseTestBed.Image('b'), cronJob.ImagesAfter["reaper"]);
        Assert.Equal(ReleaseTestBed.Digest('e'), record.Images[Devserver]);
        Assert.Equal(ReleaseTestBed.Digest('b'), record.Images[ReleaseTestBed.Repo]);
    }

    [Fact]
    public async Task A_rollback_restores_the_runtime_images_restarts_their_readers_restores_cronjobs_and_moves_the_tags_back()
    {
        using var bed = await ReleaseTestBed.CreateAsync(fixture);
        var configMap = new ObjectRef("ConfigMap", bed.Namespace, "tesslate-runtime-images");
        var cronJob = new ObjectRef("CronJob", bed.Namespace, "namespace-reaper");
        var entries = new[] { configMap, cronJob, bed.Ref("backend") };
        var backend = bed.Deployment("backend", ("backend", ReleaseTestBed.Image('a')));
        await bed.ApplyAsync(RuntimeImages(bed.Namespace, 'd'), CronJob(bed.Namespace, 'a'), backend);
        Assert.True((await bed.WaitAsync("backend")).AllSucceeded);
        var snapshot = new WorkloadSnapshot(bed.Cluster);
        var before = await snapshot.CaptureAsync(entries, Ct);
        await bed.ApplyAsync(RuntimeImages(bed.Namespace, 'e'), CronJob(bed.Namespace, 'b'), backend);
        var changes = WorkloadSnapshot.Compare(before, await snapshot.CaptureAsync(entries, Ct));
        var history = new ReleaseHistory(fixture.Api.CreateClient(), new ReleaseHistoryOptions(bed.Namespace, "deploy-history"), new LogCapture().Logger);
        var tagger = new FakeImageTagger();
        tagger.Set(Devserver, "beta", ReleaseTestBed.Digest('e'));
        var templateBefore = bed.Fake.Store.Get(KubeResources.Deployments, bed.Namespace, "backend")!["spec"]!["template"]!.ToJsonString();

        var result = await new ReleaseRollback(bed.Cluster, history, new TagPromotion(tagger, new LogCapture().Logger), new LogCapture().Logger)
            .ExecuteAsync(RollbackPlanner.FromRun(changes), new RollbackContext(Actor, "feedface", ReleaseTestBed.Fast)
            {
                EnvironmentTag = "beta",
                Readers = new Dictionary<ObjectRef, IReadOnlyList<ObjectRef>> { [configMap with { Namespace = null }] = [bed.Ref("backend")] },
            }, Ct);

        Assert.True(result.Succeeded, string.Join("; ", result.Rollouts.Results.Select(r => r.Message)));
        var restored = await snapshot.CaptureAsync(entries, Ct);
        Assert.Equal(ReleaseTestBed.Image('d', Devserver), restored[0].Images["devserver"]);
        Assert.Equal(ReleaseTestBed.Image('a'), restored[1].Images["reaper"]);
        var template = bed.Fake.Store.Get(KubeResources.Deployments, bed.Namespace, "backend")!["spec"]!["template"]!;
        Assert.NotEqual(templateBefore, template.ToJsonString());
        Assert.NotNull(template["metadata"]?["annotations"]?[RolloutRestarter.RestartedAtAnnotation]);
        Assert.Contains(result.Rollouts.Results, r => r.Workload.Name == "backend");
        Assert.Equal(ReleaseTestBed.Digest('d'), tagger.Get(Devserver, "beta"));
        var recorded = (await history.ReadAsync(Ct))[^1];
        Assert.Equal(ReleaseTestBed.Image('d', Devserver), recorded.Workloads.Single(w => w.Workload.Kind == "ConfigMap").ImagesAfter["devserver"]);
    }
}
