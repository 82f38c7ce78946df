using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>Promotion and rollback against the fake API server's simulated rollouts and an in-memory tag store.</summary>
public sealed class RollbackTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Devserver = "registry.test/devserver";
    private static readonly LockHolder Actor = new("alice", "laptop", "run-rb");

    private ReleaseHistory History(string ns) =>
        new(fixture.Api.CreateClient(), new ReleaseHistoryOptions(ns, "deploy-history"), new LogCapture().Logger);

    private static RollbackContext Context(string? environmentTag = "beta") =>
        new(Actor, "feedface", ReleaseTestBed.Fast) { EnvironmentTag = environmentTag };

    [Fact]
    public async Task Tags_move_after_every_rollout_succeeded_and_latest_only_for_flagged_images()
    {
        using var bed = await ReleaseTestBed.CreateAsync(fixture);
        await bed.ApplyAsync(bed.Deployment("app", ("app", ReleaseTestBed.Image('b')), ("dev", ReleaseTestBed.Image('d', Devserver))));
        var rollouts = await bed.WaitAsync("app");
        var tagger = new FakeImageTagger();
        tagger.Set(ReleaseTestBed.Repo, "beta", ReleaseTestBed.Digest('a'));
        var deployed = WorkloadSnapshot.DeployedDigests(await new WorkloadSnapshot(bed.Cluster).CaptureAsync([bed.Ref("app")], Ct));

        var result = await new TagPromotion(tagger, new LogCapture().Logger)
            .PromoteAsync(new PromotionRequest(deployed, "beta", new HashSet<string> { Devserver }), rollouts, dryRun: false, Ct);

        Assert.True(rollouts.AllSucceeded);
        Assert.Equal(ReleaseTestBed.Digest('b'), tagger.Get(ReleaseTestBed.Repo, "beta"));
        Assert.Equal(ReleaseTestBed.Digest('d'), tagger.Get(Devserver, "beta"));
        Assert.Equal(ReleaseTestBed.Digest('d'), tagger.Get(Devserver, "latest"));
        Assert.Null(tagger.Get(ReleaseTestBed.Repo, "latest"));
        Assert.Equal(3, result.Moved.Count);
        Assert.Contains(result.Moves, m => m.ToString().Contains("(was sha256:aaaaaaaaaaaa", StringComparison.Ordinal));
        // What the summary and the run report say: each tag, where it points now and where it pointed.
        Assert.StartsWith("tags moved: registry.test/app:beta → sha256:bbbbbbbbbbbb (was sha256:aaaaaaaaaaaa); registry.test/devserver:beta → sha256:dddddddddddd (new tag)", result.Summary);
        Assert.Equal(result.Summary, result.ToString());
    }

    [Fact]
    public async Task No_tag_moves_after_a_failed_rollout()
    {
        using var bed = await ReleaseTestBed.CreateAsync(fixture);
        bed.Fake.Faults.Inject(bed.Namespace, "app", PodFault.ImageNotFound());
        await bed.ApplyAsync(bed.Deployment("app", ("app", ReleaseTestBed.Image('b'))));
        var rollouts = await bed.WaitAsync("app");
        var tagger = new FakeImageTagger();
        tagger.Set(ReleaseTestBed.Repo, "beta", ReleaseTestBed.Digest('a'));

        var result = await new TagPromotion(tagger, new LogCapture().Logger)
            .PromoteAsync(new PromotionRequest(new Dictionary<string, string> { [ReleaseTestBed.Repo] = ReleaseTestBed.Digest('b') }, "beta"), rollouts, dryRun: false, Ct);

        Assert.False(rollouts.AllSucceeded);
        Assert.Empty(tagger.Moves);
        Assert.Equal(ReleaseTestBed.Digest('a'), tagger.Get(ReleaseTestBed.Repo, "beta"));
        Assert.Contains("did not complete", result.SkippedBecause);
        Assert.StartsWith("no tag moved: 1 rollout(s) did not complete", result.Summary);
    }

    [Fact]
    public async Task A_dry_run_lists_the_tags_that_would_move_and_moves_none()
    {
        var tagger = new FakeImageTagger();
        tagger.Set(ReleaseTestBed.Repo, "production", ReleaseTestBed.Digest('a'));
        tagger.Set(Devserver, "production", ReleaseTestBed.Digest('d'));
        var request = new PromotionRequest(new Dictionary<string, string> { [ReleaseTestBed.Repo] = ReleaseTestBed.Digest('b'), [Devserver] = ReleaseTestBed.Digest('d') }, "production", new HashSet<string> { Devserver });

        var result = await new TagPromotion(tagger, new LogCapture().Logger).MoveAsync(request, dryRun: true, Ct);

        Assert.Empty(tagger.Moves);
        Assert.Empty(result.Moved);
        Assert.Equal(["registry.test/app:production", "registry.test/devserver:production", "registry.test/devserver:latest"], result.Moves.Select(m => $"{m.Repository}:{m.Tag}"));
        Assert.Equal([true, false, true], result.Moves.Select(m => m.IsChange));
        Assert.Equal("would move: registry.test/app:production → sha256:bbbbbbbbbbbb (was sha256:aaaaaaaaaaaa); registry.test/devserver:production → sha256:dddddddddddd (unchanged); registry.test/devserver:latest → sha256:dddddddddddd (new tag)", result.Summary);
    }

    [Fact]
    public async Task Rollback_on_failure_restores_the_digests_the_run_replaced_and_records_it()
    {
        using var bed = await ReleaseTestBed.CreateAsync(fixture);
        await bed.ApplyAsync(bed.Deployment("app", ("app", ReleaseTestBed.Image('a'))), bed.Deployment("web", ("web", ReleaseTestBed.Image('w', "registry.test/web"))));
        Assert.True((await bed.WaitAsync("app", "web")).AllSucceeded);
        var snapshot = new WorkloadSnapshot(bed.Cluster);
        var before = await snapshot.CaptureAsync([bed.Ref("app"), bed.Ref("web")], Ct);
        var tagger = new FakeImageTagger();
        tagger.Set(ReleaseTestBed.Repo, "beta", ReleaseTestBed.Digest('a'));

        // The run: a new app image whose pods cannot start; web unchanged.
        bed.Fake.Faults.Inject(bed.Namespace, "app", PodFault.CrashLoop(1, ["boom"]));
        await bed.ApplyAsync(bed.Deployment("app", ("app", ReleaseTestBed.Image('b'))), bed.Deployment("web", ("web", ReleaseTestBed.Image('w', "registry.test/web"))));
        var rollouts = await bed.WaitAsync("app", "web");
        Assert.False(rollouts.AllSucceeded);
        var changes = WorkloadSnapshot.Compare(before, await snapshot.CaptureAsync([bed.Ref("app"), bed.Ref("web")], Ct));
        var history = History(bed.Namespace);
        await history.AppendAsync(new ReleaseRecord("", ReleaseKind.Deploy, "run-1", "alice", "laptop", DateTimeOffset.UtcNow, "feedface", ReleaseOutcome.RolledBack, changes,
            new Dictionary<string, string> { [ReleaseTestBed.Repo] = ReleaseTestBed.Digest('b') }), Ct);
        bed.Fake.Faults.Clear(bed.Namespace, "app");
        bed.Fake.ClearRequests();

        var plan = RollbackPlanner.FromRun(changes);
        var result = await new ReleaseRollback(bed.Cluster, history, new TagPromotion(tagger, new LogCapture().Logger), new LogCapture().Logger)
            .ExecuteAsync(plan, Context(), Ct);

        Assert.Equal([bed.Ref("app")], plan.Restores.Select(r => r.Workload));
        Assert.True(result.Succeeded, string.Join("; ", result.Rollouts.Results.Select(r => r.Message)));
        Assert.Equal(ReleaseTestBed.Image('a'), (await bed.ImagesAsync("app"))["app"]);
        Assert.DoesNotContain(bed.Fake.Mutations, m => m.Path.EndsWith("/deployments/web", StringComparison.Ordinal));
        var newest = (await history.ReadAsync(Ct))[^1];
        Assert.Equal(ReleaseKind.Rollback, newest.Kind);
        Assert.Equal(ReleaseOutcome.Succeeded, newest.Outcome);
        Assert.Equal(ReleaseTestBed.Image('b'), newest.Workloads.Single().ImagesBefore["app"]);
        Assert.Equal(ReleaseTestBed.Image('a'), newest.Workloads.Single().ImagesAfter["app"]);
        Assert.Empty(tagger.Moves);
        Assert.Equal(ReleaseTestBed.Digest('a'), tagger.Get(ReleaseTestBed.Repo, "beta"));
    }

    [Fact]
    public async Task Rollback_to_a_git_tag_sets_the_digest_the_tag_names_and_moves_the_environment_tag_back()
    {
        using var bed = await ReleaseTestBed.CreateAsync(fixture);
        await bed.ApplyAsync(bed.Deployment("app", ("app", ReleaseTestBed.Image('b')), ("side", ReleaseTestBed.Image('s', "registry.test/side"))));
        Assert.True((await bed.WaitAsync("app")).AllSucceeded);
        var history = History(bed.Namespace);
        var changes = WorkloadSnapshot.Compare([], await new WorkloadSnapshot(bed.Cluster).CaptureAsync([bed.Ref("app")], Ct));
        await history.AppendAsync(new ReleaseRecord("", ReleaseKind.Deploy, "run-1", "alice", "laptop", DateTimeOffset.UtcNow, "feedface", ReleaseOutcome.Succeeded, changes,
            new Dictionary<string, string>()), Ct);
        var tagger = new FakeImageTagger();
        tagger.Set(ReleaseTestBed.Repo, "git-0123abc", ReleaseTestBed.Digest('c'));
        tagger.Set(ReleaseTestBed.Repo, "beta", ReleaseTestBed.Digest('b'));

        var plan = await RollbackPlanner.FromTagAsync(await history.ReadAsync(Ct), "git-0123abc", tagger, null, history.Options.Display, Ct);
        var result = await new ReleaseRollback(bed.Cluster, history, new TagPromotion(tagger, new LogCapture().Logger), new LogCapture().Logger)
            .ExecuteAsync(plan, Context(), Ct);

        Assert.True(result.Succeeded);
        var images = await bed.ImagesAsync("app");
        Assert.Equal(ReleaseTestBed.Image('c'), images["app"]);
        Assert.Equal(ReleaseTestBed.Image('s', "registry.test/side"), images["side"]);
        Assert.Equal(ReleaseTestBed.Digest('c'), tagger.Get(ReleaseTestBed.Repo, "beta"));
        Assert.Null(tagger.Get("registry.test/side", "beta"));
        Assert.Equal(ReleaseKind.Rollback, (await history.ReadAsync(Ct))[^1].Kind);
    }

    [Fact]
    public async Task Rollback_by_default_undoes_the_newest_release_for_the_selected_workloads()
    {
        using var bed = await ReleaseTestBed.CreateAsync(fixture);
        await bed.ApplyAsync(bed.Deployment("app", ("app", ReleaseTestBed.Image('a'))), bed.Deployment("web", ("web", ReleaseTestBed.Image('v', "registry.test/web"))));
        Assert.True((await bed.WaitAsync("app", "web")).AllSucceeded);
        var snapshot = new WorkloadSnapshot(bed.Cluster);
        var before = await snapshot.CaptureAsync([bed.Ref("app"), bed.Ref("web")], Ct);
        await bed.ApplyAsync(bed.Deployment("app", ("app", ReleaseTestBed.Image('b'))), bed.Deployment("web", ("web", ReleaseTestBed.Image('w', "registry.test/web"))));
        Assert.True((await bed.WaitAsync("app", "web")).AllSucceeded);
        var history = History(bed.Namespace);
        await history.AppendAsync(new ReleaseRecord("", ReleaseKind.Deploy, "run-2", "alice", "laptop", DateTimeOffset.UtcNow, "feedface", ReleaseOutcome.Succeeded,
            WorkloadSnapshot.Compare(before, await snapshot.CaptureAsync([bed.Ref("app"), bed.Ref("web")], Ct)), new Dictionary<string, string>()), Ct);

        var plan = RollbackPlanner.FromHistory(await history.ReadAsync(Ct), new RollbackSource.Previous(), ["app"], history.Options.Display);
        var result = await new ReleaseRollback(bed.Cluster, history, null, new LogCapture().Logger).ExecuteAsync(plan, Context(null), Ct);

        Assert.True(result.Succeeded);
        Assert.Equal(ReleaseTestBed.Image('a'), (await bed.ImagesAsync("app"))["app"]);
        Assert.Equal(ReleaseTestBed.Image('w', "registry.test/web"), (await bed.ImagesAsync("web"))["web"]);
        var unknown = Assert.Throws<UsageException>(() => RollbackPlanner.FromHistory(result.Recorded is null ? [] : [result.Recorded], new RollbackSource.Previous(), ["nope"], "h", Choices));
        Assert.Equal($"Choose names from that list ({Choices.Workloads}).", unknown.Fix);
    }

    [Fact]
    public async Task A_rollback_never_sets_a_catalog_image_by_tag_and_restores_a_held_workload_only_after_the_one_it_waits_for()
    {
        using var bed = await ReleaseTestBed.CreateAsync(fixture);
        await bed.ApplyAsync(bed.Deployment("node", ("node", ReleaseTestBed.Image('b'))), bed.Deployment("hub", ("hub", ReleaseTestBed.Image('b'))),
            bed.Deployment("tagged", ("tagged", ReleaseTestBed.Image('b'))));
        Assert.True((await bed.WaitAsync("node", "hub", "tagged")).AllSucceeded);
        fixture.Api.Simulation.SetRolloutDuration(bed.Namespace, "node", TimeSpan.FromSeconds(1));
        var plan = new RollbackPlan("test", [
            new WorkloadRestore(bed.Ref("hub"), new Dictionary<string, string> { ["hub"] = ReleaseTestBed.Image('a') }),
            new WorkloadRestore(bed.Ref("node"), new Dictionary<string, string> { ["node"] = ReleaseTestBed.Image('a') }),
            new WorkloadRestore(bed.Ref("tagged"), new Dictionary<string, string> { ["tagged"] = ReleaseTestBed.Repo + ":beta" }),
        ]);
        var log = new LogCapture();
        fixture.Api.ClearRequests();

        var result = await new ReleaseRollback(bed.Cluster, null, null, log.Logger).ExecuteAsync(plan, Context(null) with
        {
            DigestOnly = repository => repository == ReleaseTestBed.Repo,
            After = new Dictionary<ObjectRef, ObjectRef> { [bed.Ref("hub")] = bed.Ref("node") },
        }, Ct);

        Assert.True(result.Succeeded);
        Assert.Equal(ReleaseTestBed.Image('a'), (await bed.ImagesAsync("hub"))["hub"]);
        Assert.Equal(ReleaseTestBed.Image('b'), (await bed.ImagesAsync("tagged"))["tagged"]);
        Assert.Contains(log.Lines, l => l.Contains("tagged", StringComparison.Ordinal) && l.Contains("a tag, not a digest", StringComparison.Ordinal));
        var requests = fixture.Api.Requests.ToList();
        var hubPatched = requests.FindIndex(r => r.Method == "PATCH" && r.Path.EndsWith($"/deployments/hub", StringComparison.Ordinal));
        var nodeFollowed = requests.FindIndex(r => r.Query.Contains("watch", StringComparison.Ordinal) && r.Query.Contains("node", StringComparison.Ordinal));
        Assert.True(nodeFollowed >= 0 && hubPatched > nodeFollowed, "the hub is restored after the node's rollout was followed");
    }

    [Fact]
    public async Task A_dry_run_rollback_changes_nothing_and_records_nothing()
    {
        using var bed = await ReleaseTestBed.CreateAsync(fixture);
        await bed.ApplyAsync(bed.Deployment("app", ("app", ReleaseTestBed.Image('b'))));
        Assert.True((await bed.WaitAsync("app")).AllSucceeded);
        var history = History(bed.Namespace);
        var tagger = new FakeImageTagger();
        bed.Fake.ClearRequests();

        var plan = RollbackPlanner.FromRun([new WorkloadRelease(bed.Ref("app"), new Dictionary<string, string> { ["app"] = ReleaseTestBed.Image('a') }, new Dictionary<string, string> { ["app"] = ReleaseTestBed.Image('b') })]);
        var result = await new ReleaseRollback(bed.Cluster, history, new TagPromotion(tagger, new LogCapture().Logger), new LogCapture().Logger)
            .ExecuteAsync(plan, Context() with { DryRun = true }, Ct);

        Assert.Empty(bed.Fake.Mutations);
        Assert.Empty(await history.ReadAsync(Ct));
        Assert.Equal(ReleaseTestBed.Image('b'), (await bed.ImagesAsync("app"))["app"]);
        var move = Assert.Single(result.Tags!.Moves);
        Assert.Equal((ReleaseTestBed.Repo, "beta", ReleaseTestBed.Digest('a')), (move.Repository, move.Tag, move.Digest));
        Assert.Empty(tagger.Moves);
    }

    [Fact]
    public void Rollback_without_history_is_bad_input()
    {
        var e = Assert.Throws<UsageException>(() => RollbackPlanner.FromHistory([], new RollbackSource.Previous(), null, "ConfigMap tesslate/h", Choices));
        Assert.Contains("no release history", e.Problem);
        Assert.Contains("ConfigMap tesslate/h", e.Problem);
        Assert.Equal($"Deploy at least once (each deploy records a release), or roll back to an image tag with {Choices.Tag}.", e.Fix);
    }

    // The caller's words for choosing a release, a tag and workloads: the planner names no flag of the pipeline.
    private static readonly RollbackChoices Choices = new("release=<id>", "tag=git-<sha>", "only=a,b");

    [Fact]
    public void An_unknown_release_id_lists_the_recent_releases()
    {
        var history = ReleaseLog.Append(ReleaseLog.Append([], ReleaseHistoryTests.Draft("run-1"), 50).Records, ReleaseHistoryTests.Draft("run-2"), 50).Records;
        var e = Assert.Throws<UsageException>(() => RollbackPlanner.FromHistory(history, new RollbackSource.Release("7"), null, "h", Choices));
        Assert.Contains("no release #7", e.Problem);
        Assert.Equal($"Pass one of the ids listed ({Choices.Release}).", e.Fix);
        Assert.Contains("#2 Deploy Succeeded", e.Problem);
        Assert.Contains("#1 Deploy Succeeded", e.Problem);
    }

    [Fact]
    public async Task An_unknown_tag_names_the_repositories_looked_in_and_the_recent_releases()
    {
        var history = ReleaseLog.Append([], ReleaseHistoryTests.Draft("run-1"), 50).Records;
        var e = await Assert.ThrowsAsync<UsageException>(() => RollbackPlanner.FromTagAsync(history, "git-nope", new FakeImageTagger(), null, "h", Ct, Choices));
        Assert.Contains("git-nope", e.Problem);
        Assert.EndsWith($"or roll back to a release with {Choices.Release}.", e.Fix);
        Assert.Contains(ReleaseTestBed.Repo, e.Problem);
        Assert.Contains("#1 Deploy", e.Problem);
    }

    [Fact]
    public void Rollback_to_a_release_id_restores_what_that_release_produced()
    {
        var history = ReleaseLog.Append(ReleaseLog.Append([], ReleaseHistoryTests.Draft("run-1", after: 'b'), 50).Records, ReleaseHistoryTests.Draft("run-2", before: 'b', after: 'c'), 50).Records;
        var plan = RollbackPlanner.FromHistory(history, new RollbackSource.Release("1"), null, "h");
        Assert.Equal(ReleaseTestBed.Image('b'), plan.Restores.Single().Images["app"]);
        Assert.Equal("1", plan.RestoredRelease);

        var failed = ReleaseLog.Append(history, ReleaseHistoryTests.Draft("run-3", ReleaseOutcome.Failed, before: 'c', after: 'd'), 50).Records;
        var undo = RollbackPlanner.FromHistory(failed, new RollbackSource.Previous(), null, "h");
        Assert.Equal(ReleaseTestBed.Image('c'), undo.Restores.Single().Images["app"]);
        Assert.Throws<UsageException>(() => RollbackPlanner.FromHistory(failed, new RollbackSource.Release("3"), null, "h"));
    }
}
