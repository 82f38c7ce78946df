using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Release;

public sealed class ReleasePreviewTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_dry_run_names_the_lock_holder_the_record_and_the_tags_and_changes_nothing()
    {
        var ns = await fixture.NewNamespaceAsync("preview");
        var logger = new LogCapture().Logger;
        var holder = new LockHolder("alice", "laptop", "run-a");
        await using var held = await new DeployLock(fixture.Api.CreateClient(), new DeployLockOptions(ns, "deploy") { RenewInterval = TimeSpan.FromMinutes(5) }, logger)
            .AcquireAsync(holder, breakLock: false, Ct);
        var history = new ReleaseHistory(fixture.Api.CreateClient(), new ReleaseHistoryOptions(ns, "history"), logger);
        await history.AppendAsync(ReleaseHistoryTests.Draft("run-0"), Ct);
        var tagger = new FakeImageTagger();
        tagger.Set(ReleaseTestBed.Repo, "beta", ReleaseTestBed.Digest('b'));
        var us = new LockHolder("bob", "ci", "run-b");
        var changes = new[] { new WorkloadRelease(new ObjectRef("Deployment", ns, "app"),
            new Dictionary<string, string> { ["app"] = ReleaseTestBed.Image('b') }, new Dictionary<string, string> { ["app"] = ReleaseTestBed.Image('c') }) };
        var draft = ReleaseRecord.Create(ReleaseKind.Deploy, us, "cafe", ReleaseOutcome.Succeeded, changes) with
        {
            TakenOver = [$"Deployment/{ns}/app from kubectl-client-side-apply"],
            AllowedVolumeChanges = [$"Deployment/{ns}/app container app /data: PVC a → PVC b"],
        };
        fixture.Api.ClearRequests();

        var preview = await ReleasePreview.BuildAsync(new DeployLock(fixture.Api.CreateClient(), new DeployLockOptions(ns, "deploy"), logger), us, history, draft,
            new TagPromotion(tagger, logger), new PromotionRequest(draft.Images, "beta"), Ct);

        var text = string.Join('\n', preview.Lines());
        Assert.Equal(LockStatus.Held, preview.Lock.Status);
        Assert.Contains("held by alice from laptop (run run-a)", text);
        Assert.Contains("#2 Deploy Succeeded", text);
        Assert.Contains($"{ReleaseTestBed.Image('b')} → {ReleaseTestBed.Image('c')}", text);
        Assert.Contains("registry.test/app:beta → sha256:cccccccccccc (was sha256:bbbbbbbbbbbb)", text);
        Assert.Contains($"  takes over Deployment/{ns}/app from kubectl-client-side-apply", text);
        Assert.Contains($"  allowed volume change: Deployment/{ns}/app container app /data: PVC a → PVC b", text);
        Assert.Empty(fixture.Api.Mutations);
        Assert.Empty(tagger.Moves);
        Assert.Single(await history.ReadAsync(Ct));
    }

    [Fact]
    public void The_holder_says_who_and_where_from_the_environment()
    {
        var ci = LockHolder.FromEnvironment(new Dictionary<string, string?>
        {
            ["GITHUB_ACTIONS"] = "true",
            ["GITHUB_ACTOR"] = "octocat",
            ["GITHUB_SERVER_URL"] = "https://github.com",
            ["GITHUB_REPOSITORY"] = "TesslateAI/infra",
            ["GITHUB_RUN_ID"] = "42",
            ["GITHUB_RUN_ATTEMPT"] = "2",
        }, "run-1");
        Assert.Equal(new LockHolder("octocat", "https://github.com/TesslateAI/infra/actions/runs/42/attempts/2", "run-1"), ci);

        var laptop = LockHolder.FromEnvironment(new Dictionary<string, string?> { ["USER"] = "alice" }, "run-2");
        Assert.Equal($"alice@{Environment.MachineName}", laptop.Who);
        Assert.Equal(Environment.MachineName, laptop.Where);
    }
}
