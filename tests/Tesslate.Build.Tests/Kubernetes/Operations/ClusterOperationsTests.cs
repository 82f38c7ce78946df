using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Kubernetes.Operations;
using Tesslate.Build.Platform;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Operations;

/// <summary>The operations against the fake API server: each target's effect on the cluster.</summary>
public sealed class ClusterOperationsTests(RegistryFixture registry) : IAsyncLifetime
{
    private FakeKubeApi _fake = null!;
    private KubeCluster _cluster = null!;
    private readonly LogCapture _log = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly RolloutWaitOptions Fast = new() { PodCheckInterval = TimeSpan.FromMilliseconds(100), RetryDelay = TimeSpan.FromMilliseconds(100), MaxAttempts = 3, DeadlineOverride = TimeSpan.FromMinutes(5) };

    public async ValueTask InitializeAsync()
    {
        _fake = await FakeKubeApi.StartAsync(new FakeKubeApiOptions { DefaultRolloutDuration = TimeSpan.FromMilliseconds(300), NodeCount = 2 }, Ct);
        _cluster = new KubeCluster(_fake.CreateClient(), "fake");
    }

    public async ValueTask DisposeAsync()
    {
        _cluster.Dispose();
        await _fake.DisposeAsync();
    }

    private static JsonObject Workload(string name, string ns = "tesslate", int? replicas = 1, string kind = "Deployment", string container = "app", string image = "registry.test/tesslate-backend:git-0123abc") => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = kind,
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["spec"] = new JsonObject
        {
            ["replicas"] = replicas,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = container, ["image"] = image }) },
            },
        },
    };

    private async Task<JsonObject> GetAsync(string kind, string ns, string name) =>
        (await _cluster.GetAsync(await _cluster.RequireAsync(kind == "ConfigMap" ? "v1" : "apps/v1", kind, Ct), ns, name, Ct))!;

    private async Task<IReadOnlyList<JsonObject>> ReadyPodsAsync(string ns, string app, int count) =>
        await Poll.UntilAsync(
            async () => await _cluster.ListAsync(await _cluster.RequireAsync("v1", "Pod", Ct), ns, "app=" + app, null, Ct),
            pods => pods.Count(p => (p["status"]?["conditions"] as JsonArray ?? []).Any(c => (string?)c?["type"] == "Ready" && (string?)c?["status"] == "True")) >= count,
            $"{count} ready pod(s) of {app}");

    [Fact]
    public async Task Litellm_config_map_holds_exactly_the_file_and_a_missing_file_only_warns()
    {
        _fake.Seed(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "tesslate" } });
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "model_list:\n  - model_name: gpt\n", Ct);
            var outcome = await ConfigMapFiles.SyncAsync(_cluster, "tesslate", PlatformWorkloads.LitellmConfigMap, PlatformWorkloads.LitellmConfigKey, file, _log.Logger, Ct);
            Assert.Equal(ConfigMapSyncOutcome.Applied, outcome);
            var configMap = await GetAsync("ConfigMap", "tesslate", "litellm-config");
            Assert.Equal("model_list:\n  - model_name: gpt\n", (string?)configMap["data"]?["config.yaml"]);
            _fake.ClearRequests();
            var missing = await ConfigMapFiles.SyncAsync(_cluster, "tesslate", "other-config", "config.yaml", file + ".absent", _log.Logger, Ct);
            Assert.Equal(ConfigMapSyncOutcome.SourceMissing, missing);
            Assert.Empty(_fake.Mutations);
            Assert.Contains(_log.Lines, l => l.Contains("not synced", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task SafeShutdown_parks_project_workloads_worker_and_backend_deletes_only_unowned_project_pods_and_Resume_restores_the_exact_counts()
    {
        _fake.Seed(Workload("tesslate-backend", replicas: 3));
        _fake.Seed(Workload("tesslate-worker", replicas: 2));
        _fake.Seed(Workload("tesslate-frontend", replicas: 2));
        _fake.Seed(Workload("devserver", ns: "proj-1111", replicas: 2));
        _fake.Seed(Workload("db", ns: "proj-1111", kind: "StatefulSet"));
        _fake.Seed(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = "one-off", ["namespace"] = "proj-1111" },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "registry.test/tesslate-devserver:beta" }) },
        });
        await ReadyPodsAsync("proj-1111", "devserver", 2);
        await ReadyPodsAsync("proj-1111", "db", 1);
        var operations = new PlatformOperations(_cluster, _log.Logger);

        var report = await operations.SafeShutdownAsync(Ct);
        Assert.Equal(new ObjectRef("Pod", "proj-1111", "one-off"), Assert.Single(report.DeletedProjectPods));
        Assert.Equal([("devserver", 2), ("db", 1), ("tesslate-worker", 2), ("tesslate-backend", 3)], report.Recorded.Select(r => (r.Workload.Name, r.Replicas)));
        Assert.Equal(0, (int?)(await GetAsync("Deployment", "proj-1111", "devserver"))["spec"]?["replicas"]);
        Assert.Equal(0, (int?)(await GetAsync("StatefulSet", "proj-1111", "db"))["spec"]?["replicas"]);
        Assert.Equal(0, (int?)(await GetAsync("Deployment", "tesslate", "tesslate-backend"))["spec"]?["replicas"]);
        Assert.Equal(2, (int?)(await GetAsync("Deployment", "tesslate", "tesslate-frontend"))["spec"]?["replicas"]);
        // The controllers remove the project pods they own, and start none again.
        await Poll.UntilAsync(async () => await _cluster.ListAsync(await _cluster.RequireAsync("v1", "Pod", Ct), "proj-1111", null, null, Ct), pods => pods.Count == 0, "no pods left in proj-1111");

        // A second shutdown keeps the real counts instead of recording zero.
        var again = await operations.SafeShutdownAsync(Ct);
        Assert.Equal([2, 1, 2, 3], again.Recorded.Select(r => r.Replicas));

        var restored = await operations.ResumeAsync(Ct);
        Assert.Equal([("tesslate-backend", 3), ("tesslate-worker", 2), ("devserver", 2), ("db", 1)], restored.Select(r => (r.Workload.Name, r.Replicas)));
        var backend = await GetAsync("Deployment", "tesslate", "tesslate-backend");
        Assert.Equal(3, (int?)backend["spec"]?["replicas"]);
        Assert.Null(backend["metadata"]?["annotations"]?[PlatformOperations.ShutdownAnnotation]);
        Assert.Equal(2, (int?)(await GetAsync("Deployment", "tesslate", "tesslate-worker"))["spec"]?["replicas"]);
        Assert.Equal(2, (int?)(await GetAsync("Deployment", "proj-1111", "devserver"))["spec"]?["replicas"]);
        Assert.Equal(1, (int?)(await GetAsync("StatefulSet", "proj-1111", "db"))["spec"]?["replicas"]);
        await ReadyPodsAsync("proj-1111", "devserver", 2);

        var nothing = await Assert.ThrowsAsync<BuildFailure>(() => operations.ResumeAsync(Ct));
        Assert.Contains("nothing to resume", nothing.Message);
        Assert.Equal("Resume restores what SafeShutdown recorded. If the environment was stopped another way, use Scale --workloads <name> --replicas <n>.", nothing.Fix);
    }

    [Fact]
    public async Task With_a_release_history_SafeShutdown_records_the_counts_there_and_Resume_answers_that_record()
    {
        _fake.Seed(Workload("tesslate-backend", replicas: 2));
        _fake.Seed(Workload("tesslate-worker", replicas: 4));
        var history = new ReleaseHistory(_cluster.Client, new ReleaseHistoryOptions("tesslate", "tesslate-releases"), _log.Logger);
        var operations = new PlatformOperations(_cluster, _log.Logger, history: history, stamp: new ReleaseStamp("run-1", "ops", "laptop", null));

        var shutdown = await operations.SafeShutdownAsync(Ct);
        Assert.Equal(ReleaseKind.SafeShutdown, shutdown.Release!.Kind);
        var stored = Assert.Single(await history.ReadAsync(Ct));
        Assert.Equal([("tesslate-worker", 4), ("tesslate-backend", 2)], stored.Workloads.Select(w => (w.Workload.Name, w.ReplicasBefore!.Value)));
        Assert.Equal(shutdown.Release.Id, PlatformOperations.PendingShutdown(await history.ReadAsync(Ct))!.Id);

        // Someone removes the annotations by hand: the history still knows the counts.
        var resource = await _cluster.RequireAsync("apps/v1", "Deployment", Ct);
        foreach (var name in new[] { "tesslate-backend", "tesslate-worker" })
            await _cluster.StrategicPatchAsync(resource, "tesslate", name, new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [PlatformOperations.ShutdownAnnotation] = null } } }, "test", Ct);

        var restored = await operations.ResumeAsync(Ct);
        Assert.Equal([("tesslate-backend", 2), ("tesslate-worker", 4)], restored.Select(r => (r.Workload.Name, r.Replicas)));
        Assert.Equal(4, (int?)(await GetAsync("Deployment", "tesslate", "tesslate-worker"))["spec"]?["replicas"]);
        var records = await history.ReadAsync(Ct);
        Assert.Equal(shutdown.Release.Id, records[^1].RestoredRelease);
        Assert.Null(PlatformOperations.PendingShutdown(records));
        await Assert.ThrowsAsync<BuildFailure>(() => operations.ResumeAsync(Ct));
    }

    [Fact]
    public async Task Reload_litellm_syncs_the_config_map_from_the_repository_then_restarts_litellm_only()
    {
        _fake.Seed(Workload("litellm", image: "ghcr.io/berriai/litellm:main-v1.81.9-stable"));
        _fake.Seed(Workload("tesslate-backend"));
        var root = Directory.CreateTempSubdirectory("reload").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "k8s", "litellm"));
            await File.WriteAllTextAsync(Path.Combine(root, PlatformWorkloads.LitellmConfigFile), "general_settings: {}\n", Ct);
            var plan = ReloadPlan.For(["litellm"], []);
            var report = await new PlatformOperations(_cluster, _log.Logger).ReloadAsync(plan, [], root, new ApplyOptions(), Fast, Ct);
            Assert.Equal("litellm", Assert.Single(report.Results).Workload.Name);
            Assert.Equal("general_settings: {}\n", (string?)(await GetAsync("ConfigMap", "tesslate", "litellm-config"))["data"]?["config.yaml"]);
            Assert.NotNull((await GetAsync("Deployment", "tesslate", "litellm"))["spec"]?["template"]?["metadata"]?["annotations"]?[RolloutRestarter.RestartedAtAnnotation]);
            Assert.Null((await GetAsync("Deployment", "tesslate", "tesslate-backend"))["spec"]?["template"]?["metadata"]?["annotations"]);
            var configSync = _fake.Requests.ToList().FindIndex(r => r.Path.EndsWith("/configmaps/litellm-config", StringComparison.Ordinal) && r.Method == "PATCH");
            var restart = _fake.Requests.ToList().FindIndex(r => r.Path.EndsWith("/deployments/litellm", StringComparison.Ordinal) && r.Method == "PATCH");
            Assert.True(configSync >= 0 && restart > configSync, "the ConfigMap is synced before litellm restarts");
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task Reload_without_names_applies_the_overlay_and_rolls_backend_frontend_and_worker()
    {
        var objects = new[] { "tesslate-backend", "tesslate-frontend", "tesslate-worker" }.Select(n => new KubeObject(Workload(n))).ToList();
        var ns = new KubeObject(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "tesslate" } });
        var report = await new PlatformOperations(_cluster, _log.Logger).ReloadAsync(ReloadPlan.For([], []), [ns, .. objects], Path.GetTempPath(), new ApplyOptions(), Fast, Ct);
        Assert.True(report.AllSucceeded);
        Assert.Equal(["tesslate-backend", "tesslate-frontend", "tesslate-worker"], report.Results.Select(r => r.Workload.Name).Order());
        Assert.Equal(3, _fake.Requests.Count(r => r.Method == "PATCH" && r.ContentType!.StartsWith("application/apply-patch", StringComparison.Ordinal) && r.Path.Contains("/deployments/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Reload_refuses_before_any_change_when_the_role_cannot_patch_deployments()
    {
        _fake.Seed(Workload("tesslate-backend"));
        _fake.Access.Deny("patch", "deployments");
        var error = await Assert.ThrowsAsync<BuildFailure>(() => new PlatformOperations(_cluster, _log.Logger).ReloadAsync(ReloadPlan.For(["backend"], []), [], Path.GetTempPath(), new ApplyOptions(), Fast, Ct));
        Assert.Contains("patch deployments.apps in namespace tesslate", error.Message);
        Assert.Contains("deployer", error.Fix);
        Assert.Empty(_fake.Mutations);
    }

    [Fact]
    public async Task SafeShutdown_with_a_role_that_cannot_delete_project_pods_changes_nothing()
    {
        _fake.Seed(Workload("tesslate-backend", replicas: 2));
        _fake.Seed(Workload("tesslate-worker", replicas: 2));
        _fake.Access.Deny("delete", "pods");
        var error = await Assert.ThrowsAsync<BuildFailure>(() => new PlatformOperations(_cluster, _log.Logger).SafeShutdownAsync(Ct));
        Assert.Contains("delete pods", error.Message);
        Assert.Contains("--role admin", error.Fix);
        Assert.Empty(_fake.Mutations);
        Assert.Equal(2, (int?)(await GetAsync("Deployment", "tesslate", "tesslate-backend"))["spec"]?["replicas"]);
    }

    [Fact]
    public async Task Scale_sets_the_replicas_of_the_named_workload()
    {
        _fake.Seed(Workload("tesslate-backend", replicas: 1));
        var before = await new PlatformOperations(_cluster, _log.Logger).ScaleAsync(["backend"], 4, [], Ct);
        Assert.Equal(1, Assert.Single(before).Replicas);
        Assert.Equal(4, (int?)(await GetAsync("Deployment", "tesslate", "tesslate-backend"))["spec"]?["replicas"]);
    }

    [Fact]
    public async Task Scale_of_a_workload_the_cluster_does_not_have_changes_nothing_and_the_platform_words_the_fix()
    {
        var error = await Assert.ThrowsAsync<BuildFailure>(() => new PlatformOperations(_cluster, _log.Logger).ScaleAsync(["backend"], 4, [], Ct));
        Assert.Contains("tesslate-backend does not exist in", error.Problem);
        Assert.Equal("Check the workload name (Status lists them) or apply the overlay first.", error.Fix);
        Assert.Empty(_fake.Mutations);
        // The adapter itself reports the missing workload as a result, in no words of the pipeline.
        Assert.Null(await new ReplicaControl(_cluster, _log.Logger).ScaleAsync(PlatformWorkloads.Backend, 4, Ct));
    }

    [Fact]
    public async Task The_compute_release_applies_the_volume_hub_only_after_the_csi_daemonset_finished_and_an_unchanged_hub_is_not_restarted()
    {
        const string v1 = "registry.test/tesslate-btrfs-csi@sha256:1111111111111111111111111111111111111111111111111111111111111111";
        const string v2 = "registry.test/tesslate-btrfs-csi@sha256:2222222222222222222222222222222222222222222222222222222222222222";
        _fake.Simulation.SetRolloutDuration("kube-system", "tesslate-btrfs-csi-node", TimeSpan.FromSeconds(1));
        async Task<ComputeReleaseReport> ReleaseAsync(string image)
        {
            var objects = new[] { Workload("tesslate-btrfs-csi-node", "kube-system", replicas: null, kind: "DaemonSet", image: image), Workload("tesslate-volume-hub", "kube-system", image: image) }
                .Select(o => new KubeObject(o)).ToList();
            var plan = await new ManifestApplier(_cluster, _log.Logger).PlanAsync(objects, new ApplyOptions { DefaultNamespace = "kube-system" }, Ct);
            return await new ComputeRelease(_cluster, _log.Logger).RunAsync(plan, Fast, Ct);
        }
        await ReleaseAsync(v1);
        _fake.ClearRequests();

        var report = await ReleaseAsync(v2);

        Assert.True(report.Rollouts.AllSucceeded);
        Assert.Equal(["tesslate-btrfs-csi-node", "tesslate-volume-hub"], report.Rollouts.Results.Select(r => r.Workload.Name));
        var requests = _fake.Requests.ToList();
        var hubApply = requests.FindIndex(r => r.Method == "PATCH" && r.Path.EndsWith("/deployments/tesslate-volume-hub", StringComparison.Ordinal));
        var csiWatch = requests.FindIndex(r => r.Path.Contains("/daemonsets", StringComparison.Ordinal) && r.Query.Contains("watch", StringComparison.Ordinal));
        Assert.True(csiWatch >= 0 && hubApply > csiWatch, "the hub is applied after the CSI rollout was followed");
        Assert.Equal(v2, (string?)(await GetAsync("Deployment", "kube-system", "tesslate-volume-hub"))["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);

        // Nothing new: nothing rolls, nothing is restarted.
        var again = await ReleaseAsync(v2);
        Assert.Empty(again.Rollouts.Results);
        Assert.Null((await GetAsync("Deployment", "kube-system", "tesslate-volume-hub"))["spec"]?["template"]?["metadata"]?["annotations"]?[RolloutRestarter.RestartedAtAnnotation]);
    }

    [Fact]
    public async Task A_failing_CSI_rollout_in_the_compute_release_leaves_the_volume_hub_untouched()
    {
        const string v1 = "registry.test/tesslate-btrfs-csi@sha256:1111111111111111111111111111111111111111111111111111111111111111";
        const string v2 = "registry.test/tesslate-btrfs-csi@sha256:3333333333333333333333333333333333333333333333333333333333333333";
        async Task<ComputeReleaseReport> ReleaseAsync(string image)
        {
            var objects = new[] { Workload("tesslate-btrfs-csi-node", "kube-system", replicas: null, kind: "DaemonSet", image: image), Workload("tesslate-volume-hub", "kube-system", image: image) }
                .Select(o => new KubeObject(o)).ToList();
            var plan = await new ManifestApplier(_cluster, _log.Logger).PlanAsync(objects, new ApplyOptions { DefaultNamespace = "kube-system" }, Ct);
            return await new ComputeRelease(_cluster, _log.Logger).RunAsync(plan, Fast, Ct);
        }
        Assert.True((await ReleaseAsync(v1)).Rollouts.AllSucceeded);
        _fake.Faults.Inject("kube-system", "tesslate-btrfs-csi-node", PodFault.CrashLoop(2, ["btrfs: mount failed"]));
        _fake.ClearRequests();

        var report = await ReleaseAsync(v2);

        var csi = Assert.Single(report.Rollouts.Results);
        Assert.Equal("tesslate-btrfs-csi-node", csi.Workload.Name);
        Assert.Equal(RolloutOutcome.Failed, csi.Outcome);
        Assert.Null(report.Second);
        Assert.DoesNotContain(_fake.Mutations, m => m.Path.EndsWith("/deployments/tesslate-volume-hub", StringComparison.Ordinal));
        var hub = await GetAsync("Deployment", "kube-system", "tesslate-volume-hub");
        Assert.Equal(v1, (string?)hub["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
        Assert.Null(hub["spec"]?["template"]?["metadata"]?["annotations"]?[RolloutRestarter.RestartedAtAnnotation]);
        Assert.Contains("tesslate-volume-hub keeps what it runs", _log.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_reports_counts_running_digests_and_the_git_sha_of_the_tag()
    {
        _fake.Seed(Workload("tesslate-backend", replicas: 2));
        await ReadyPodsAsync("tesslate", "tesslate-backend", 2);
        var history = new ReleaseHistory(_cluster.Client, new ReleaseHistoryOptions("tesslate", "tesslate-releases"), _log.Logger);
        var empty = new Dictionary<string, string>();
        await history.AppendAsync(new ReleaseRecord("", ReleaseKind.Deploy, "run-7", "ci", "github", DateTimeOffset.UtcNow, "0123abcdef", ReleaseOutcome.Succeeded, [], empty), Ct);
        var deployLock = new DeployLock(_cluster.Client, new DeployLockOptions("tesslate", "tesslate-deploy-lock"), _log.Logger);
        await using var held = await deployLock.AcquireAsync(new LockHolder("ci", "github", "run-8"), breakLock: false, Ct);
        var status = await new PlatformOperations(_cluster, _log.Logger, history: history).StatusAsync([PlatformWorkloads.Backend, PlatformWorkloads.Frontend], deployLock, Ct);
        var backend = status.Workloads[0];
        Assert.True(backend.Exists);
        Assert.Equal(2, backend.Desired);
        Assert.Equal(2, backend.Ready);
        var container = Assert.Single(backend.Containers);
        Assert.Equal("0123abc", container.GitSha);
        Assert.All(container.RunningDigests, d => Assert.StartsWith("sha256:", d));
        Assert.NotEmpty(container.RunningDigests);
        Assert.False(status.Workloads[1].Exists);
        var text = string.Join('\n', status.Lines());
        Assert.Contains("#1 Deploy Succeeded", text);
        Assert.Contains("held by ci from github (run run-8)", text);
    }

    [Fact]
    public async Task Status_reads_the_commit_of_a_digest_pinned_image_from_its_revision_label_in_the_registry()
    {
        const string commit = "4f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6";
        var path = $"{RegistryFixture.NewNamespace()}/tesslate-backend";
        var digest = await RegistryImages.PushAsync(registry.Address, path, "git-4f1c2d3e4b5a", new Dictionary<string, string> { [ImageRevisions.RevisionLabel] = commit }, Ct);
        var backend = Workload("tesslate-backend", replicas: 1, image: $"{registry.Address}/{path}@{digest}");
        ((JsonArray)backend["spec"]!["template"]!["spec"]!["containers"]!).Add(new JsonObject { ["name"] = "cache", ["image"] = "docker.io/library/redis@sha256:" + new string('a', 64) });
        _fake.Seed(backend);
        await ReadyPodsAsync("tesslate", "tesslate-backend", 1);
        using var client = new Tesslate.Build.Registry.RegistryClient(registry.Address);

        var status = await new PlatformOperations(_cluster, _log.Logger).StatusAsync([PlatformWorkloads.Backend], null, Ct, new ImageRevisions(client, _log.Logger));

        var containers = Assert.Single(status.Workloads).Containers;
        Assert.Equal(commit, containers.Single(c => c.Container == "app").GitSha);
        Assert.Null(containers.Single(c => c.Container == "cache").GitSha); // another registry: not asked
        Assert.Contains($"running {digest} (git {commit[..12]})", string.Join('\n', status.Lines()));
    }

    [Fact]
    public async Task Migrate_reports_multiple_heads_from_the_pod_output_with_the_merge_command()
    {
        _fake.Seed(Workload("tesslate-backend", container: "backend"));
        await ReadyPodsAsync("tesslate", "tesslate-backend", 1);
        _fake.Exec.Respond("alembic upgrade head", 255,
            "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.",
            "ERROR [alembic.util.messaging] Multiple heads detected: 9f1e2d, 4c5b6a",
            "  FAILED: Multiple heads detected");
        var error = await Assert.ThrowsAsync<BuildFailure>(() => DatabaseMigration.RunAsync(_cluster, _log.Logger, TimeSpan.FromSeconds(30), Ct));
        Assert.Contains("alembic merge heads -m \"merge_heads\"", error.Fix);
        var invocation = Assert.Single(_fake.Exec.Invocations);
        Assert.Equal("backend", invocation.Container);
        Assert.Equal(["alembic", "upgrade", "head"], invocation.Command);
        Assert.Contains(_log.Lines, l => l.Contains("Multiple heads detected: 9f1e2d", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Migrate_succeeds_when_alembic_exits_zero()
    {
        _fake.Seed(Workload("tesslate-backend", container: "backend"));
        await ReadyPodsAsync("tesslate", "tesslate-backend", 1);
        _fake.Exec.Respond("alembic upgrade head", 0, "INFO  Running upgrade 9f1e2d -> 4c5b6a, add projects");
        var result = await DatabaseMigration.RunAsync(_cluster, _log.Logger, TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Logs_of_every_pod_are_prefixed_with_pod_and_container()
    {
        _fake.Seed(Workload("tesslate-worker", replicas: 2, container: "worker"));
        _fake.Simulation.SetLogs("tesslate", "tesslate-worker", ["job 1 done", "job 2 done"]);
        var pods = await ReadyPodsAsync("tesslate", "tesslate-worker", 2);
        var lines = new List<string>();
        var count = await new PodLogs(_cluster, _log.Logger).FollowAsync(PlatformWorkloads.Worker, l => { lock (lines) lines.Add(l); }, follow: false, tailLines: null, Ct);
        Assert.Equal(4, count);
        foreach (var pod in pods.Select(p => (string)p["metadata"]!["name"]!))
            Assert.Contains($"[{pod}/worker] job 2 done", lines);
    }

    /// <summary>One worker replica whose log says "job done", followed until the token given is cancelled: once its line was seen.</summary>
    private async Task<(string First, Task<int> Following, Func<string, bool> Saw)> FollowOneWorkerAsync(CancellationToken stop)
    {
        _fake.Seed(Workload("tesslate-worker", replicas: 1, container: "worker"));
        _fake.Simulation.SetLogs("tesslate", "tesslate-worker", ["job done"]);
        var first = (string)(await ReadyPodsAsync("tesslate", "tesslate-worker", 1))[0]["metadata"]!["name"]!;
        var lines = new List<string>();
        bool Saw(string pod) { lock (lines) return lines.Contains($"[{pod}/worker] job done"); }
        var following = new PodLogs(_cluster, _log.Logger).FollowAsync(PlatformWorkloads.Worker, l => { lock (lines) lines.Add(l); }, follow: true, tailLines: null, stop);
        await Poll.UntilAsync(() => Task.FromResult(Saw(first)), seen => seen, "the first pod's log line");
        return (first, following, Saw);
    }

    [Fact]
    public async Task Following_logs_picks_up_a_pod_that_starts_later_and_lets_a_deleted_pod_go()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var (first, following, saw) = await FollowOneWorkerAsync(stop.Token);

        // A second replica starts after Logs did: its container is followed once it runs.
        var deployment = await _cluster.RequireAsync("apps/v1", "Deployment", Ct);
        await _cluster.StrategicPatchAsync(deployment, "tesslate", "tesslate-worker", new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 2 } }, "test", Ct);
        var second = (string)(await ReadyPodsAsync("tesslate", "tesslate-worker", 2)).Select(p => p["metadata"]!["name"]!).First(n => (string)n! != first)!;
        await Poll.UntilAsync(() => Task.FromResult(saw(second)), seen => seen, "the later pod's log line");

        await _cluster.Client.CoreV1.DeleteNamespacedPodAsync(first, "tesslate", cancellationToken: Ct);
        await Poll.UntilAsync(() => Task.FromResult(_log.Text), text => text.Contains($"[{first}] gone: no longer followed"), "the deleted pod let go");
        Assert.False(following.IsCompleted, "following ends only on Ctrl-C");
        stop.Cancel();
        Assert.True(await following >= 2);
    }

    [Theory]
    [InlineData("dropped")]
    [InlineData("expired")]
    public async Task Following_logs_keeps_following_new_pods_after_the_pod_watch_is_cut_or_expires_with_410(string how)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var (first, following, saw) = await FollowOneWorkerAsync(stop.Token);
        await _fake.UntilWatchingAsync("pods");

        if (how == "dropped")
            _fake.DropWatches();
        else
            _fake.ExpireWatches();
        var deployment = await _cluster.RequireAsync("apps/v1", "Deployment", Ct);
        await _cluster.StrategicPatchAsync(deployment, "tesslate", "tesslate-worker", new JsonObject { ["spec"] = new JsonObject { ["replicas"] = 2 } }, "test", Ct);
        var second = (string)(await ReadyPodsAsync("tesslate", "tesslate-worker", 2)).Select(p => p["metadata"]!["name"]!).First(n => (string)n! != first)!;

        await Poll.UntilAsync(() => Task.FromResult(saw(second)), seen => seen, "the log line of a pod that started after the watch ended");
        Assert.Contains("Pod watch of \"tesslate\" ended", _log.Text, StringComparison.Ordinal);
        Assert.False(following.IsCompleted, "following ends only on Ctrl-C");
        stop.Cancel();
        await following;
    }

    [Fact]
    public async Task Following_logs_ends_quietly_on_cancellation()
    {
        _fake.Seed(Workload("tesslate-worker", container: "worker"));
        await ReadyPodsAsync("tesslate", "tesslate-worker", 1);
        _fake.BeginOutage(OutageMode.Hang);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stop.CancelAfter(TimeSpan.FromMilliseconds(300));
        var count = await new PodLogs(_cluster, _log.Logger).FollowAsync(PlatformWorkloads.Worker, _ => { }, follow: true, tailLines: 10, stop.Token);
        Assert.Equal(0, count);
        _fake.EndOutage();
    }

    [Fact]
    public async Task Only_empty_project_namespaces_are_pruned_and_only_those()
    {
        _fake.Seed(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "proj-empty" } });
        _fake.Seed(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "proj-kept", ["labels"] = new JsonObject { [NamespacePruning.KeepLabel] = "true" } } });
        _fake.Seed(Workload("devserver", ns: "proj-busy"));
        var pruning = new NamespacePruning(_cluster, _log.Logger);
        var candidates = await pruning.FindAsync(PlatformWorkloads.ProjectNamespacePrefix, TimeSpan.FromMinutes(30), DateTimeOffset.UtcNow.AddHours(1), Ct);
        Assert.Equal("proj-empty", Assert.Single(candidates).Name);
        Assert.Empty(await pruning.FindAsync(PlatformWorkloads.ProjectNamespacePrefix, TimeSpan.FromMinutes(30), DateTimeOffset.UtcNow, Ct));
        await pruning.DeleteAsync(candidates, dryRun: false, Ct);
        // Namespace deletion is graceful: Terminating until the namespace controller has emptied it.
        var remaining = await Poll.UntilAsync(async () => (await _cluster.Client.CoreV1.ListNamespaceAsync(cancellationToken: Ct)).Items.Select(n => n.Metadata.Name).ToList(),
            names => !names.Contains("proj-empty"), "proj-empty gone");
        Assert.Contains("proj-busy", remaining);
        Assert.Contains("proj-kept", remaining);
    }

    [Fact]
    public async Task A_project_namespace_still_terminating_is_not_a_candidate_again()
    {
        // Something in it has a finalizer no controller removes yet: the namespace stays Terminating after the prune.
        _fake.Seed(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "proj-slow" } });
        _fake.Seed(new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = "held", ["namespace"] = "proj-slow", ["finalizers"] = new JsonArray("example.com/cleanup") } });
        var pruning = new NamespacePruning(_cluster, _log.Logger);
        var later = DateTimeOffset.UtcNow.AddHours(2);
        var candidates = await pruning.FindAsync(PlatformWorkloads.ProjectNamespacePrefix, TimeSpan.FromMinutes(30), later, Ct);
        Assert.Equal("proj-slow", Assert.Single(candidates).Name);
        await pruning.DeleteAsync(candidates, dryRun: false, Ct);
        await Poll.UntilAsync(async () => await _cluster.ListAsync(await _cluster.RequireAsync("v1", "ConfigMap", Ct), "proj-slow", null, null, Ct),
            l => l.Count == 1 && l[0]["metadata"]?["deletionTimestamp"] is not null, "the namespace controller deleting its content");

        // A second prune (the real server would answer 409 to a second DELETE) leaves it to finish.
        var survey = Assert.Single(await pruning.SurveyAsync("proj-slow", Ct));
        Assert.True(survey.Terminating);
        Assert.Empty(await pruning.FindAsync(PlatformWorkloads.ProjectNamespacePrefix, TimeSpan.FromMinutes(30), later, Ct));
    }

    [Fact]
    public async Task SafeShutdown_deletes_project_pods_gracefully_and_a_second_shutdown_meets_them_terminating()
    {
        _fake.Seed(Workload("tesslate-backend"));
        _fake.Seed(Workload("tesslate-worker"));
        _fake.Seed(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = "one-off", ["namespace"] = "proj-2222" },
            ["spec"] = new JsonObject { ["terminationGracePeriodSeconds"] = 45, ["containers"] = new JsonArray(new JsonObject { ["name"] = "app", ["image"] = "registry.test/tesslate-devserver:beta" }) },
        });
        await Poll.UntilAsync(async () => await _cluster.Client.CoreV1.ReadNamespacedPodAsync("one-off", "proj-2222", cancellationToken: Ct), p => p.Status?.Phase == "Running", "the project pod running");
        // Its processes take their time to stop (e.g. a dev server flushing files).
        _fake.Simulation.SetShutdownDuration("proj-2222", "one-off", TimeSpan.FromMinutes(10));
        var operations = new PlatformOperations(_cluster, _log.Logger);

        var report = await operations.SafeShutdownAsync(Ct);
        Assert.Equal(new ObjectRef("Pod", "proj-2222", "one-off"), Assert.Single(report.DeletedProjectPods));
        // Not forced: the pod keeps its own grace period to stop.
        var terminating = await _cluster.Client.CoreV1.ReadNamespacedPodAsync("one-off", "proj-2222", cancellationToken: Ct);
        Assert.Equal(45, terminating.Metadata.DeletionGracePeriodSeconds);

        // A second shutdown meets the pod still Terminating: it neither fails nor forces it.
        await operations.SafeShutdownAsync(Ct);
        Assert.Equal(45, (await _cluster.Client.CoreV1.ReadNamespacedPodAsync("one-off", "proj-2222", cancellationToken: Ct)).Metadata.DeletionGracePeriodSeconds);
        Assert.Null(_fake.ControllerError);
    }

    [Fact]
    public async Task A_deployer_like_identity_is_told_before_a_litellm_reload_that_config_map_writes_are_missing()
    {
        _fake.Access.Deny("patch", "configmaps");
        _fake.Access.Deny("create", "configmaps");
        var plan = ReloadPlan.For(["litellm"], []);
        var missing = await PermissionPreflight.FindMissingAsync(_cluster, plan.Permissions(), Ct);
        Assert.Contains(new PermissionRequirement("patch", "", "configmaps", "tesslate"), missing);
        var error = await Assert.ThrowsAsync<BuildFailure>(() => PermissionPreflight.EnsureAsync(_cluster, plan.Permissions(), plan.PermissionFix, Ct));
        Assert.Contains("--role admin", error.Fix);
        Assert.Empty(_fake.Mutations);
    }

    [Theory]
    [InlineData("True", true)]
    [InlineData("False", false)]
    [InlineData(null, false)]
    public async Task Verify_checks_the_site_the_health_endpoint_and_the_wildcard_certificate(string? ready, bool ok)
    {
        await using var site = await LocalSite.StartAsync();
        if (ready is not null)
        {
            _fake.Seed(new JsonObject
            {
                ["apiVersion"] = "cert-manager.io/v1",
                ["kind"] = "Certificate",
                ["metadata"] = new JsonObject { ["name"] = PlatformWorkloads.WildcardCertificate, ["namespace"] = "tesslate" },
                ["spec"] = new JsonObject { ["secretName"] = PlatformWorkloads.WildcardCertificate, ["dnsNames"] = new JsonArray("*.x.test") },
            });
            var resource = await _cluster.RequireAsync("cert-manager.io/v1", "Certificate", Ct);
            var status = new JsonObject { ["status"] = new JsonObject { ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = ready, ["reason"] = ready == "True" ? "Ready" : "DoesNotExist", ["lastTransitionTime"] = "2026-11-28T10:00:00Z" }) } };
            await _cluster.Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), "cert-manager.io", "v1", "tesslate", resource.Plural, PlatformWorkloads.WildcardCertificate, cancellationToken: Ct);
        }
        using var http = new HttpClient();
        var report = await EnvironmentVerification.RunAsync(_cluster, http, site.Url, TimeSpan.FromSeconds(5), Ct);
        Assert.True(report.Site.Ok);
        Assert.True(report.Backend.Ok);
        Assert.Equal(ok, report.Ok);
        var text = string.Join('\n', report.Diagnosis);
        if (ready == "False")
            Assert.Contains("Zone:DNS:Edit", text);
        if (ready is null)
            Assert.Contains("does not exist", text);
        if (!ok)
            Assert.Throws<BuildFailure>(() => report.ThrowIfFailed());
    }

    [Fact]
    public async Task Verify_reports_a_failing_backend()
    {
        await using var site = await LocalSite.StartAsync(backendStatus: 503);
        using var http = new HttpClient();
        var report = await EnvironmentVerification.RunAsync(_cluster, http, site.Url, TimeSpan.FromSeconds(5), Ct);
        Assert.False(report.Backend.Ok);
        Assert.Equal(503, report.Backend.StatusCode);
        Assert.Contains(report.Diagnosis, l => l.Contains("the backend does not answer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_fails_when_the_backend_route_answers_with_the_frontend_page()
    {
        await ReadyCertificateAsync();
        // Only a frontend behind the host: every path, /api/config included, gets the SPA's index.html with 200.
        await using var site = await LocalSite.StartAsync(backendStatus: null);
        using var http = new HttpClient();
        var report = await EnvironmentVerification.RunAsync(_cluster, http, site.Url, TimeSpan.FromSeconds(5), Ct);
        Assert.True(report.Site.Ok);
        Assert.Equal(200, report.Backend.StatusCode);
        Assert.Equal("/api/config", report.Backend.Url.AbsolutePath);
        Assert.True(report.Certificate.IsReady);
        Assert.False(report.Ok);
        Assert.Contains(report.Diagnosis, l => l.StartsWith("✗", StringComparison.Ordinal) && l.Contains("frontend served it", StringComparison.Ordinal));
        Assert.Throws<BuildFailure>(() => report.ThrowIfFailed());
    }

    private async Task ReadyCertificateAsync()
    {
        _fake.Seed(new JsonObject
        {
            ["apiVersion"] = "cert-manager.io/v1",
            ["kind"] = "Certificate",
            ["metadata"] = new JsonObject { ["name"] = PlatformWorkloads.WildcardCertificate, ["namespace"] = "tesslate" },
            ["spec"] = new JsonObject { ["secretName"] = PlatformWorkloads.WildcardCertificate, ["dnsNames"] = new JsonArray("*.x.test") },
        });
        var resource = await _cluster.RequireAsync("cert-manager.io/v1", "Certificate", Ct);
        var status = new JsonObject { ["status"] = new JsonObject { ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True", ["reason"] = "Ready", ["lastTransitionTime"] = "2026-11-28T10:00:00Z" }) } };
        await _cluster.Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), "cert-manager.io", "v1", "tesslate", resource.Plural, PlatformWorkloads.WildcardCertificate, cancellationToken: Ct);
    }

    /// <summary>
    /// A site on 127.0.0.1 routed like the ingress: /api/config answers JSON with the given status (null: no backend,
    /// the frontend answers it too); everything else answers the frontend's HTML.
    /// </summary>
    private sealed class LocalSite : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private LocalSite(WebApplication app, Uri url)
        {
            _app = app;
            Url = url;
        }

        public Uri Url { get; }

        public static async Task<LocalSite> StartAsync(int? backendStatus = 200)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.Run(async ctx =>
            {
                if (ctx.Request.Path == EnvironmentVerification.BackendPath && backendStatus is { } status)
                {
                    ctx.Response.StatusCode = status;
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.WriteAsync("{\"status\":\"ok\"}");
                    return;
                }
                ctx.Response.ContentType = "text/html";
                await ctx.Response.WriteAsync("<html></html>");
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new LocalSite(app, new Uri(address + "/"));
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
