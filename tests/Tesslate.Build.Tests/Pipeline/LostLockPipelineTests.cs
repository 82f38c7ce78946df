using k8s;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>
/// A Deploy whose deploy lock is taken over while it waits for its rollouts (another run's --break-lock), through the
/// real pipeline against the fake API server: it notices at its next renewal and changes nothing more — no seed, no tag
/// moved, no history entry — names who holds the lock now, and leaves that holder's lock alone.
/// </summary>
[Collection(RepositoryCopy.CatalogRepositories)]
public sealed class LostLockPipelineTests(RegistryFixture registry)
{
    private static readonly LockHolder Bob = new("bob", "bob-laptop", "run-bob");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_Deploy_that_loses_its_lock_mid_run_stops_before_its_next_change_and_names_the_new_holder()
    {
        await using var env = await LocalRelease.StartAsync(registry.Address);
        var images = await env.PushWorkloadImagesAsync("lost");
        foreach (var image in new[] { "markitdown", "deerflow" })
            await env.TagLocalAsync(image);
        var tagged = await env.TagAsync("backend", "local");
        // Not a first deploy: the namespace exists, so the run takes the lock.
        await env.Fake.CreateClient().CoreV1.CreateNamespaceAsync(new k8s.Models.V1Namespace { Metadata = new k8s.Models.V1ObjectMeta { Name = LocalRelease.Namespace } }, cancellationToken: Ct);
        // Rollouts long enough that the takeover lands while the run only waits; the lease is renewed every second.
        env.Fake.Simulation.DefaultRolloutDuration = TimeSpan.FromSeconds(8);

        // On the thread pool: the run's continuations must not queue behind the test's on xunit's limited context.
        var run = Task.Run(() => env.DeployAsync(images, "--deploy-lock-lease", "3s"), Ct);
        // WaitRollout has started watching: everything before it is applied, nothing after it has happened.
        await Poll.UntilAsync(() => Task.FromResult(env.Fake.Requests.Any(r => r.Query.Contains("watch=true", StringComparison.Ordinal))), seen => seen || run.IsCompleted,
            "the run's rollout watches", TimeSpan.FromSeconds(60));
        if (run.IsCompleted)
            Assert.Fail("the run ended before its rollouts were watched:\n" + (await run).Output);
        var mark = env.Fake.Requests.Count;

        await using var bob = await new DeployLock(env.Fake.CreateClient(), new DeployLockOptions(LocalRelease.Namespace, "tesslate-deploy"), new LogCapture().Logger)
            .AcquireAsync(Bob, breakLock: true, Ct);

        var (exitCode, output) = await run;

        Assert.True(exitCode == 1, output);
        Assert.Contains("This run lost the deploy lock: Lease tesslate/tesslate-deploy is held by bob from bob-laptop (run run-bob)", output);
        // The pipeline words the fix: its own Status target and --break-lock flag.
        Assert.Contains("then check the environment (./build.sh Status --environment local) and deploy again. It was taken with --break-lock", output);
        var changesAfter = env.Fake.Requests.Skip(mark).Where(r => r.Method is "POST" or "PUT" or "PATCH" or "DELETE" && !r.DryRun
            && !r.Path.Contains("/leases", StringComparison.Ordinal) && !r.Path.EndsWith("/selfsubjectaccessreviews", StringComparison.Ordinal)).ToList();
        Assert.True(changesAfter.Count == 0, "changed after losing the lock: " + string.Join(", ", changesAfter.Select(r => $"{r.Method} {r.Path}")));
        Assert.DoesNotContain(env.Fake.Exec.Invocations, c => c.Command.Contains("scripts.seed_apps"));
        Assert.Equal(tagged, await env.TagAsync("backend", "local"));
        Assert.Null(env.Get(KubeResources.Get("", "configmaps"), LocalRelease.Namespace, "tesslate-deploy-history"));
        // Bob's lock is Bob's: the run neither released nor renewed it.
        var lease = await env.Fake.CreateClient().CoordinationV1.ReadNamespacedLeaseAsync("tesslate-deploy", LocalRelease.Namespace, cancellationToken: Ct);
        Assert.Equal(Bob.Identity, lease.Spec.HolderIdentity);
    }

    [Fact]
    public async Task A_Migrate_while_another_run_holds_the_lock_runs_no_command_and_names_the_holder()
    {
        await using var env = await LocalRelease.StartAsync(registry.Address);
        await env.Fake.CreateClient().CoreV1.CreateNamespaceAsync(new k8s.Models.V1Namespace { Metadata = new k8s.Models.V1ObjectMeta { Name = LocalRelease.Namespace } }, cancellationToken: Ct);
        env.Fake.Exec.Respond("alembic upgrade head", 0, "migrated");
        await using var bob = await new DeployLock(env.Fake.CreateClient(), new DeployLockOptions(LocalRelease.Namespace, "tesslate-deploy"), new LogCapture().Logger)
            .AcquireAsync(Bob, breakLock: false, Ct);

        var (exitCode, output) = await Task.Run(() => env.RunAsync("Migrate"), Ct);

        Assert.True(exitCode == 1, output);
        Assert.Contains("held by bob from bob-laptop (run run-bob)", output);
        Assert.Contains("If that run is gone, take the lock over with --break-lock.", output);
        Assert.Empty(env.Fake.Exec.Invocations);
    }
}
