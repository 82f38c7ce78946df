using System.Diagnostics;
using k8s;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>
/// The lock between two processes: this test run starts itself again as a child that holds the lock (the
/// <see cref="Child_holds_the_deploy_lock_until_interrupted"/> test, active only there), then interrupts it with SIGINT
/// as Ctrl-C would.
/// </summary>
public sealed class DeployLockProcessTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private const string ChildUrl = "TESSLATE_TEST_LOCK_CHILD_URL";
    private const string ChildNamespace = "TESSLATE_TEST_LOCK_CHILD_NAMESPACE";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_run_in_another_process_is_refused_and_its_lock_is_released_when_it_is_interrupted()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGINT with kill(1)");
        var ns = await fixture.NewNamespaceAsync("proc");
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The test assembly is an executable (xunit v3); under `dotnet Tesslate.Build.Tests.dll` the host comes first.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            start.ArgumentList.Add(typeof(DeployLockProcessTests).Assembly.Location);
        foreach (var arg in new[] { "-method", $"{typeof(DeployLockProcessTests).FullName}.{nameof(Child_holds_the_deploy_lock_until_interrupted)}" })
            start.ArgumentList.Add(arg);
        start.Environment[ChildUrl] = fixture.Api.Url;
        start.Environment[ChildNamespace] = ns;
        using var child = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        child.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        child.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        try
        {
            var lease = await Poll.UntilAsync(
                async () => (await fixture.Client.CoordinationV1.ListNamespacedLeaseAsync(ns, cancellationToken: Ct)).Items.FirstOrDefault(),
                l => l?.Spec?.HolderIdentity is not null, "the child process to take the lock", TimeSpan.FromSeconds(60));
            Assert.Equal("child@child-host#child-run", lease!.Spec.HolderIdentity);

            var refused = await Assert.ThrowsAsync<BuildFailure>(() =>
                new DeployLock(fixture.Api.CreateClient(), new DeployLockOptions(ns, "deploy"), new LogCapture().Logger)
                    .AcquireAsync(new LockHolder("parent", "parent-host", "parent-run"), breakLock: false, Ct));
            Assert.Contains("child from child-host (run child-run)", refused.Problem);

            using (var kill = Process.Start("kill", ["-INT", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await kill.WaitForExitAsync(Ct);
            // The child's runner cancels the test, runs the cleanup and reports; a loaded machine needs time for that.
            using var exited = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            exited.CancelAfter(TimeSpan.FromSeconds(90));
            try
            {
                await child.WaitForExitAsync(exited.Token);
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                Assert.Fail("the child did not exit within 90 s of SIGINT; its output:\n" + string.Join('\n', output));
            }

            var after = await fixture.Client.CoordinationV1.ReadNamespacedLeaseAsync("deploy", ns, cancellationToken: Ct);
            Assert.True(after.Spec.HolderIdentity is null, "lease still held; child output:\n" + string.Join('\n', output));
        }
        finally
        {
            if (!child.HasExited)
                child.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Runs only in the child process started above: takes the lock, registers it with the run cleanup, waits for Ctrl-C.</summary>
    [Fact]
    public async Task Child_holds_the_deploy_lock_until_interrupted()
    {
        var url = Environment.GetEnvironmentVariable(ChildUrl);
        Assert.SkipWhen(string.IsNullOrEmpty(url), "runs only as the child of the cross-process lock test");
        var log = new LogCapture();
        var cleanup = new RunCleanup();
        using var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = url, AccessToken = "child" });
        try
        {
            cleanup.Register("deploy lock", await new DeployLock(client, new DeployLockOptions(Environment.GetEnvironmentVariable(ChildNamespace)!, "deploy"), log.Logger)
                .AcquireAsync(new LockHolder("child", "child-host", "child-run"), breakLock: false, Ct));
            await Task.Delay(TimeSpan.FromMinutes(2), Ct);
        }
        finally
        {
            await cleanup.RunAsync(log.Logger);
        }
    }
}
