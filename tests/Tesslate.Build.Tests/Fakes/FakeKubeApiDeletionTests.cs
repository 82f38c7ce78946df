using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>
/// Graceful deletion as the Kubernetes API documents it: pods stay Terminating through their grace period, namespaces
/// through the removal of their contents, objects with finalizers until those are removed; a Terminating namespace
/// takes no new content. The clock is frozen: the test decides when the grace period passes.
/// </summary>
public sealed class FakeKubeApiDeletionTests(FrozenClockFakeKubeApiFixture fixture) : IClassFixture<FrozenClockFakeKubeApiFixture>
{
    private readonly IKubernetes _client = fixture.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static V1Deployment Deployment(string name, int replicas, long? grace = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { TerminationGracePeriodSeconds = grace, Containers = [new V1Container { Name = "app", Image = "app:1" }] },
            },
        },
    };

    private async Task<IList<V1Pod>> ReadyPodsAsync(string ns, string app, int count) =>
        (await Poll.AdvanceUntilAsync(fixture.Api, () => _client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app=" + app, cancellationToken: Ct),
            l => l.Items.Count(p => p.Metadata.DeletionTimestamp is null && p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true) == count,
            $"{count} ready pods of {app}", TimeSpan.FromSeconds(30))).Items;

    private async Task<V1Pod?> FindPodAsync(string ns, string name) =>
        (await _client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: "metadata.name=" + name, cancellationToken: Ct)).Items.SingleOrDefault();

    [Fact]
    public async Task A_deleted_pod_stays_terminating_while_its_containers_stop_and_at_most_its_grace_period()
    {
        var ns = await fixture.NewNamespaceAsync("grace");
        await _client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 2, grace: 20), ns, cancellationToken: Ct);
        var pods = await ReadyPodsAsync(ns, "web", 2);
        fixture.Api.Simulation.SetShutdownDuration(ns, "web", TimeSpan.FromMinutes(5));
        var victim = pods[0].Metadata.Name;
        var deletedAt = fixture.Api.Clock.Now;

        // DELETE answers the pod itself, now carrying the deadline: now + the pod's terminationGracePeriodSeconds.
        var answer = await _client.CoreV1.DeleteNamespacedPodAsync(victim, ns, cancellationToken: Ct);
        Assert.Equal(20, answer.Metadata.DeletionGracePeriodSeconds);
        Assert.Equal(deletedAt.AddSeconds(20).UtcDateTime, answer.Metadata.DeletionTimestamp!.Value, TimeSpan.FromSeconds(1));

        // Terminating: still readable, no longer counted by its ReplicaSet, which starts a replacement.
        fixture.Api.Tick();
        Assert.NotNull((await FindPodAsync(ns, victim))?.Metadata.DeletionTimestamp);
        var serving = (await ReadyPodsAsync(ns, "web", 2)).Where(p => p.Metadata.DeletionTimestamp is null).ToList();
        Assert.Equal(2, serving.Count);
        Assert.DoesNotContain(serving, p => p.Metadata.Name == victim);
        Assert.NotNull(await FindPodAsync(ns, victim));

        // An update can neither clear nor move the deadline.
        var live = (await FindPodAsync(ns, victim))!;
        live.Metadata.DeletionTimestamp = null;
        live.Metadata.Labels["touched"] = "yes";
        var updated = await _client.CoreV1.ReplaceNamespacedPodAsync(live, victim, ns, cancellationToken: Ct);
        Assert.Equal(answer.Metadata.DeletionTimestamp, updated.Metadata.DeletionTimestamp);

        // Containers that take longer than the grace period are killed at its end.
        await Poll.AdvanceUntilAsync(fixture.Api, () => FindPodAsync(ns, victim), p => p is null, "the pod gone at the end of its grace period", TimeSpan.FromSeconds(21), TimeSpan.FromSeconds(1));
        Assert.True(fixture.Api.Clock.Now >= answer.Metadata.DeletionTimestamp, "not before its deadline");
    }

    [Fact]
    public async Task A_pod_whose_containers_stop_quickly_goes_then_and_a_zero_grace_period_deletes_at_once()
    {
        var ns = await fixture.NewNamespaceAsync("quick");
        await _client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 2), ns, cancellationToken: Ct);
        var pods = await ReadyPodsAsync(ns, "web", 2);
        fixture.Api.Simulation.SetShutdownDuration(ns, "web", TimeSpan.FromSeconds(3));
        var now = fixture.Api.Clock.Now;
        // deletionTimestamp has whole seconds, as the API server writes it: the containers' stop counts from there.
        var deletedAt = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));

        var answer = await _client.CoreV1.DeleteNamespacedPodAsync(pods[0].Metadata.Name, ns, cancellationToken: Ct);
        Assert.Equal(30, answer.Metadata.DeletionGracePeriodSeconds);
        var gone = await Poll.AdvanceUntilAsync(fixture.Api, () => FindPodAsync(ns, pods[0].Metadata.Name), p => p is null, "the pod gone once its containers stopped",
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
        Assert.InRange(fixture.Api.Clock.Now - deletedAt, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4));

        await _client.CoreV1.DeleteNamespacedPodAsync(pods[1].Metadata.Name, ns, gracePeriodSeconds: 0, cancellationToken: Ct);
        Assert.Null(await FindPodAsync(ns, pods[1].Metadata.Name));
        var notFound = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedPodAsync(pods[1].Metadata.Name, ns, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, notFound.Response.StatusCode);
    }

    [Fact]
    public async Task A_deleted_namespace_is_terminating_refuses_new_content_and_goes_once_its_pods_are_gone()
    {
        var ns = await fixture.NewNamespaceAsync("doomed");
        await _client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 1), ns, cancellationToken: Ct);
        await ReadyPodsAsync(ns, "web", 1);
        fixture.Api.Simulation.SetShutdownDuration(ns, "web", TimeSpan.FromSeconds(10));

        // The real server answers the Namespace, not a Status (KubernetesClient's V1Status keeps it as an object view).
        var answer = (await _client.CoreV1.DeleteNamespaceAsync(ns, cancellationToken: Ct)).ObjectView<V1Namespace>();
        Assert.Equal("Terminating", answer.Status.Phase);
        Assert.NotNull(answer.Metadata.DeletionTimestamp);
        Assert.Equal(["kubernetes"], answer.Spec.Finalizers);

        // The NamespaceLifecycle admission: no new object in it (updates of existing ones are still accepted).
        var create = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "late" } }, ns, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Forbidden, create.Response.StatusCode);
        Assert.Contains($"unable to create new content in namespace {ns} because it is being terminated", create.Response.Content);
        var again = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.DeleteNamespaceAsync(ns, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Conflict, again.Response.StatusCode);

        // The namespace controller deletes its contents; the pod terminates gracefully, and the namespace goes after it.
        fixture.Api.Tick();
        var pod = Assert.Single((await _client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: Ct)).Items);
        Assert.NotNull(pod.Metadata.DeletionTimestamp);
        Assert.Equal("Terminating", (await _client.CoreV1.ReadNamespaceAsync(ns, cancellationToken: Ct)).Status.Phase);
        await Poll.AdvanceUntilAsync(fixture.Api, async () => (await _client.CoreV1.ListNamespaceAsync(cancellationToken: Ct)).Items.Any(n => n.Metadata.Name == ns),
            present => !present, "the namespace gone", TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(1));
        Assert.Null(fixture.Api.ControllerError);
    }

    [Fact]
    public async Task An_object_with_finalizers_stays_until_they_are_removed_and_holds_its_namespace_meanwhile()
    {
        var ns = await fixture.NewNamespaceAsync("final");
        await _client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "held", Finalizers = ["example.com/cleanup"] } }, ns, cancellationToken: Ct);

        await _client.CoreV1.DeleteNamespaceAsync(ns, cancellationToken: Ct);
        fixture.Api.Clock.Advance(TimeSpan.FromMinutes(5));
        var held = await _client.CoreV1.ReadNamespacedConfigMapAsync("held", ns, cancellationToken: Ct);
        Assert.NotNull(held.Metadata.DeletionTimestamp);
        Assert.Equal("Terminating", (await _client.CoreV1.ReadNamespaceAsync(ns, cancellationToken: Ct)).Status.Phase);

        held.Metadata.Finalizers = [];
        await _client.CoreV1.ReplaceNamespacedConfigMapAsync(held, "held", ns, cancellationToken: Ct);
        fixture.Api.Tick();
        fixture.Api.Tick();
        Assert.DoesNotContain((await _client.CoreV1.ListNamespaceAsync(cancellationToken: Ct)).Items, n => n.Metadata.Name == ns);
    }

    [Fact]
    public async Task A_watch_sees_the_deletion_begin_as_a_modification_and_end_as_a_deletion()
    {
        var ns = await fixture.NewNamespaceAsync("watched");
        await _client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", 1), ns, cancellationToken: Ct);
        var pod = (await ReadyPodsAsync(ns, "web", 1))[0].Metadata.Name;
        fixture.Api.Simulation.SetShutdownDuration(ns, "web", TimeSpan.FromSeconds(2));
        var list = await _client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: Ct);

        await _client.CoreV1.DeleteNamespacedPodAsync(pod, ns, cancellationToken: Ct);
        fixture.Api.Clock.Advance(TimeSpan.FromSeconds(3));
        var events = new List<(WatchEventType, bool)>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stop.CancelAfter(TimeSpan.FromSeconds(10));
        await foreach (var (type, item) in _client.CoreV1.WatchListNamespacedPodAsync(ns, fieldSelector: "metadata.name=" + pod, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: stop.Token))
        {
            events.Add((type, item.Metadata.DeletionTimestamp is not null));
            if (type == WatchEventType.Deleted)
                break;
        }

        Assert.Equal(WatchEventType.Modified, events.First(e => e.Item2).Item1);
        Assert.Equal((WatchEventType.Deleted, true), events[^1]);
    }
}
