using System.Net.WebSockets;
using System.Text;
using k8s;
using k8s.Models;
using Xunit;

namespace Tesslate.Build.Tests.Fakes;

public sealed class FakeKubeApiExecTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private readonly IKubernetes _client = fixture.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly string[] Seed = ["python", "-m", "scripts.seed_apps"];

    private async Task<(string Namespace, string Pod)> RunningPodAsync()
    {
        var ns = await fixture.NewNamespaceAsync("exec");
        fixture.Api.Simulation.SetRolloutDuration(ns, "backend", TimeSpan.FromMilliseconds(100));
        var manifest = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"backend\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"backend\"}},"
            + "\"template\":{\"metadata\":{\"labels\":{\"app\":\"backend\"}},\"spec\":{\"containers\":[{\"name\":\"backend\",\"image\":\"backend:1\"}]}}}}";
        await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(manifest, V1Patch.PatchType.ApplyPatch), "backend", ns, fieldManager: "t", cancellationToken: Ct);
        var pods = await Poll.UntilAsync(() => _client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: Ct),
            l => l.Items.Count == 1 && l.Items[0].Status.Phase == "Running", "a running backend pod");
        return (ns, pods.Items[0].Metadata.Name);
    }

    [Fact]
    public async Task Exec_streams_stdout_and_returns_the_exit_code_through_NamespacedPodExecAsync()
    {
        var (ns, pod) = await RunningPodAsync();
        fixture.Api.Exec.Handle("python -m scripts.seed_apps", async (session, ct) =>
        {
            await session.StdoutAsync("seeding 3 apps\n", ct);
            await session.StderrAsync("warning: app x already exists\n", ct);
            return session.Namespace == ns ? 4 : 0;
        });

        var stdout = "";
        var stderr = "";
        var exitCode = await _client.NamespacedPodExecAsync(pod, ns, "backend", Seed, false, async (_, output, error) =>
        {
            stdout = await new StreamReader(output).ReadToEndAsync(Ct);
            stderr = await new StreamReader(error).ReadToEndAsync(Ct);
        }, Ct);

        Assert.Equal(4, exitCode);
        Assert.Equal("seeding 3 apps\n", stdout);
        Assert.Equal("warning: app x already exists\n", stderr);
        var invocation = fixture.Api.Exec.Invocations.Last(i => i.Namespace == ns);
        Assert.Equal(Seed, invocation.Command);
        Assert.Equal("v4.channel.k8s.io", invocation.Protocol);
    }

    [Fact]
    public async Task Exec_over_v5_reports_success_on_the_status_channel()
    {
        var (ns, pod) = await RunningPodAsync();
        fixture.Api.Exec.Respond("echo ok", 0, "ok");
        using var socket = await _client.WebSocketNamespacedPodExecAsync(pod, ns, ["echo", "ok"], "backend", tty: false,
            webSocketSubProtocol: WebSocketProtocol.V5BinaryWebsocketProtocol, cancellationToken: Ct);
        Assert.Equal("v5.channel.k8s.io", socket.SubProtocol);
        using var demux = new StreamDemuxer(socket, supportsClose: true);
        using var stdout = demux.GetStream(ChannelIndex.StdOut, null);
        using var status = demux.GetStream(ChannelIndex.Error, null);
        demux.Start();
        Assert.Equal("ok\n", await new StreamReader(stdout).ReadToEndAsync(Ct));
        var result = KubernetesJson.Deserialize<V1Status>(await new StreamReader(status).ReadToEndAsync(Ct));
        Assert.Equal(0, k8s.Kubernetes.GetExitCodeOrThrow(result));
    }

    [Fact]
    public async Task A_slow_command_can_be_abandoned_by_cancellation_and_a_dropped_transport_surfaces_as_an_error()
    {
        var (ns, pod) = await RunningPodAsync();
        var handlerCancelled = new TaskCompletionSource();
        fixture.Api.Exec.Handle("sleep forever", async (session, ct) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                handlerCancelled.TrySetResult();
                throw;
            }

            return 0;
        });
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            timeout.CancelAfter(TimeSpan.FromMilliseconds(300));
            // KubernetesClient's exec streams block in Read and ignore tokens: the timeout must wrap the read.
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                _client.NamespacedPodExecAsync(pod, ns, "backend", ["sleep", "forever"], false, (_, o, _) => new StreamReader(o).ReadToEndAsync(timeout.Token).WaitAsync(timeout.Token), timeout.Token));
        }

        await handlerCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        fixture.Api.Exec.Handle("drop", async (session, ct) =>
        {
            await session.StdoutAsync("partial\n", ct);
            throw session.DropTransport();
        });
        var error = await Record.ExceptionAsync(() =>
            _client.NamespacedPodExecAsync(pod, ns, "backend", ["drop"], false, (_, o, _) => new StreamReader(o).ReadToEndAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct), Ct));
        Assert.NotNull(error);
        Assert.IsNotType<TimeoutException>(error);
    }

    [Fact]
    public async Task Exec_into_a_pod_that_is_not_running_is_refused()
    {
        var ns = await fixture.NewNamespaceAsync("exec-pending");
        fixture.Api.Faults.Inject(ns, "pending", PodFault.Unschedulable());
        fixture.Api.Seed(new System.Text.Json.Nodes.JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "pending", ["namespace"] = ns },
            ["spec"] = new System.Text.Json.Nodes.JsonObject { ["containers"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["name"] = "c", ["image"] = "i" }) },
        });
        var error = await Record.ExceptionAsync(() =>
            _client.NamespacedPodExecAsync("pending", ns, "c", ["true"], false, (_, _, _) => Task.CompletedTask, Ct));
        Assert.NotNull(error);
        Assert.DoesNotContain(fixture.Api.Exec.Invocations, i => i.Namespace == ns);
    }
}

public sealed class FakeKubeApiOutageTests : IAsyncLifetime
{
    private FakeKubeApi _fake = null!;
    private IKubernetes _client = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _fake = await FakeKubeApi.StartAsync();
        _client = _fake.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _fake.DisposeAsync();
    }

    [Fact]
    public async Task A_watch_cut_mid_stream_fails_the_reader_and_requests_hang_until_the_outage_ends()
    {
        var list = await _client.CoreV1.ListNamespacedConfigMapAsync("default", cancellationToken: Ct);
        var started = new TaskCompletionSource();
        var reader = Task.Run(async () =>
        {
            await foreach (var (_, cm) in _client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: list.Metadata.ResourceVersion, cancellationToken: Ct))
            {
                started.TrySetResult();
            }
        }, Ct);
        await _client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "one" } }, "default", cancellationToken: Ct);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        _fake.BeginOutage(OutageMode.Hang);
        var watchError = await Record.ExceptionAsync(() => reader.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.NotNull(watchError);
        Assert.IsNotType<TimeoutException>(watchError);

        var pending = _client.CoreV1.ReadNamespacedConfigMapAsync("one", "default", cancellationToken: Ct);
        Assert.False(pending.IsCompleted);
        _fake.EndOutage();
        Assert.Equal("one", (await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct)).Metadata.Name);
    }

    [Fact]
    public async Task A_watch_from_a_compacted_resource_version_gets_410_gone()
    {
        var list = await _client.CoreV1.ListNamespacedConfigMapAsync("default", cancellationToken: Ct);
        await _client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "two" } }, "default", cancellationToken: Ct);
        _fake.Store.Compact();
        // KubernetesClient hands ERROR events to onError rather than throwing them.
        Exception? error = null;
        await foreach (var _ in _client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: list.Metadata.ResourceVersion, onError: e => error = e, cancellationToken: Ct))
        {
        }

        var status = Assert.IsType<KubernetesException>(error);
        Assert.Equal(410, status.Status.Code);
    }
}
