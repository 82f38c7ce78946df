using k8s.Models;
using Tesslate.Build.Kubernetes;
using Xunit;
using static Tesslate.Build.Tests.Kubernetes.KubeFixtures;

namespace Tesslate.Build.Tests.Kubernetes;

public sealed class PodDiagnosisTests
{
    private const string Image = "registry.test/app@sha256:abc";

    public static TheoryData<string, PodCause> PullFailures => new()
    {
        { "failed to pull and unpack image: failed to resolve reference: pulling from host 1234.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests sha256:abc]: 401 Unauthorized",
            new PodCause.PullUnauthorized(Image, "registry.test", null, null) },
        { $"rpc error: code = NotFound desc = failed to pull and unpack image \"{Image}\": not found", new PodCause.ImageNotPushed(Image, "registry.test/app") },
        { "failed to pull and unpack image: no match for platform in manifest: not found", new PodCause.NoPlatformVariant(Image) },
        { "dial tcp 10.0.0.1:443: i/o timeout", new PodCause.PullFailed(Image) },
    };

    [Theory]
    [MemberData(nameof(PullFailures))]
    public void Image_pull_failures_are_classified_from_the_kubelets_event(string eventMessage, PodCause cause)
    {
        var pod = Pod("p1", statuses: Waiting("ImagePullBackOff", $"Back-off pulling image \"{Image}\""));
        var problems = PodDiagnosis.Diagnose([pod], [Event("p1", "Failed", $"Failed to pull image \"{Image}\": {eventMessage}")]);
        var problem = Assert.Single(problems);
        Assert.Equal(cause, problem.Cause);
        Assert.True(problem.IsTerminal);
        Assert.Contains(eventMessage, problem.Message);
        Assert.Null(problem.Fix);
    }

    private const string Ecr = "859561299901.dkr.ecr.us-east-1.amazonaws.com/tesslate-backend";

    private static PodProblem PullFailure(string image, string eventMessage, IReadOnlyDictionary<string, string>? pushed = null)
    {
        var status = Waiting("ErrImagePull", $"rpc error: {eventMessage}");
        status.Image = image;
        return Assert.Single(PodDiagnosis.Diagnose([Pod("p1", statuses: status)], [Event("p1", "Failed", $"Failed to pull image \"{image}\": {eventMessage}")], pushed));
    }

    [Fact]
    public void A_missing_image_says_which_digest_this_run_pushed_instead()
    {
        var problem = PullFailure($"{Ecr}@sha256:{new string('a', 64)}", "not found", new Dictionary<string, string> { [Ecr] = "sha256:" + new string('b', 64) });

        Assert.Equal(PodProblemKind.ImageNotFound, problem.Kind);
        Assert.Equal(new PodCause.OtherImagePinned($"{Ecr}@sha256:{new string('a', 64)}", Ecr, "sha256:" + new string('b', 64), "sha256:" + new string('a', 64), null), problem.Cause);

        var byTag = PullFailure($"{Ecr}:beta", "not found", new Dictionary<string, string> { [Ecr] = "sha256:" + new string('b', 64) });
        Assert.Equal(new PodCause.OtherImagePinned($"{Ecr}:beta", Ecr, "sha256:" + new string('b', 64), null, "beta"), byTag.Cause);
    }

    [Fact]
    public void A_missing_image_that_is_the_pushed_digest_points_at_its_deletion_and_one_not_pushed_at_the_build()
    {
        var digest = "sha256:" + new string('c', 64);
        var gone = PullFailure($"{Ecr}@{digest}", "manifest unknown", new Dictionary<string, string> { [Ecr] = digest });
        Assert.Equal(new PodCause.PushedDigestGone($"{Ecr}@{digest}"), gone.Cause);

        var notPushed = PullFailure($"{Ecr}@{digest}", "not found");
        Assert.Equal(new PodCause.ImageNotPushed($"{Ecr}@{digest}", Ecr), notPushed.Cause);
        Assert.Equal(PodProblemKind.ImageNotFound, notPushed.Kind);
    }

    [Fact]
    public void An_unauthorized_ecr_pull_names_the_registrys_account_and_region()
    {
        var problem = PullFailure($"{Ecr}@sha256:{new string('a', 64)}", "failed to authorize: failed to fetch anonymous token: 401 Unauthorized");

        Assert.Equal(PodProblemKind.ImagePullUnauthorized, problem.Kind);
        Assert.Equal(new PodCause.PullUnauthorized($"{Ecr}@sha256:{new string('a', 64)}", "859561299901.dkr.ecr.us-east-1.amazonaws.com", "859561299901", "us-east-1"), problem.Cause);
    }

    [Fact]
    public void A_crash_loop_is_terminal_and_asks_for_the_previous_containers_log()
    {
        var pod = Pod("p1", statuses: Waiting("CrashLoopBackOff", "back-off 40s", restarts: 4, last: new V1ContainerStateTerminated { ExitCode = 1, Reason = "Error" }));
        var problem = Assert.Single(PodDiagnosis.Diagnose([pod], []));
        Assert.Equal(new PodCause.ExitsAtStart("p1", "app", Init: false), problem.Cause);
        Assert.Equal(PodProblemKind.CrashLoop, problem.Kind);
        Assert.True(problem.NeedsPreviousLog);
        Assert.Contains("last exit code 1", problem.Message);
        var withLog = problem with { LogTail = ["KeyError: 'DATABASE_URL'"] };
        Assert.Contains("KeyError", withLog.ToString());
    }

    [Fact]
    public void An_oom_kill_names_the_memory_limit()
    {
        var pod = Pod("p1", statuses: Waiting("CrashLoopBackOff", restarts: 2, last: new V1ContainerStateTerminated { ExitCode = 137, Reason = "OOMKilled" }));
        var problem = Assert.Single(PodDiagnosis.Diagnose([pod], []));
        Assert.Equal(PodProblemKind.OutOfMemory, problem.Kind);
        Assert.Equal(new PodCause.OutOfMemory("app", "512Mi"), problem.Cause);
        Assert.Contains("(512Mi)", problem.Message);
    }

    public static TheoryData<string, PodCause> ConfigErrors => new()
    {
        { "secret \"tesslate-app-secrets\" not found", new PodCause.MissingObject("secret", "tesslate-app-secrets", "tesslate") },
        { "couldn't find key DATABASE_URL in Secret tesslate/tesslate-app-secrets", new PodCause.MissingKey("DATABASE_URL", "Secret", "tesslate/tesslate-app-secrets") },
        { "configmap \"tesslate-config\" not found", new PodCause.MissingObject("configmap", "tesslate-config", "tesslate") },
        { "serviceaccounts \"runner\" not found", new PodCause.MissingObject("serviceaccount", "runner", "tesslate") },
        { "something else is wrong", new PodCause.MissingReference() },
    };

    [Theory]
    [MemberData(nameof(ConfigErrors))]
    public void A_container_config_error_names_the_missing_secret_or_key(string message, PodCause cause)
    {
        var problem = Assert.Single(PodDiagnosis.Diagnose([Pod("p1", statuses: Waiting("CreateContainerConfigError", message))], []));
        Assert.Equal(PodProblemKind.MissingConfig, problem.Kind);
        Assert.Equal(cause, problem.Cause);
    }

    [Fact]
    public void An_unschedulable_pod_shows_the_schedulers_event_and_is_not_terminal()
    {
        var pod = Pod("p1");
        pod.Status.Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = "0/3 nodes" }];
        var problem = Assert.Single(PodDiagnosis.Diagnose([pod], [Event("p1", "FailedScheduling", "0/3 nodes are available: 3 Insufficient memory.")]));
        Assert.Equal(new PodCause.NoNodeFits(), problem.Cause);
        Assert.False(problem.IsTerminal);
        Assert.Contains("Insufficient memory", problem.Message);
    }

    [Fact]
    public void Failing_readiness_probes_are_reported_from_events()
    {
        var pod = Pod("p1", statuses: new V1ContainerStatus { Name = "app", Image = "x", ImageID = "", Ready = false, RestartCount = 0, State = new V1ContainerState { Running = new V1ContainerStateRunning() } });
        pod.Status.Phase = "Running";
        var problem = Assert.Single(PodDiagnosis.Diagnose([pod], [Event("p1", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count: 7)]));
        Assert.Equal(new PodCause.ReadinessProbeFailing(), problem.Cause);
        Assert.Contains("7 times", problem.Message);
        Assert.False(problem.IsTerminal);
    }

    private static V1Pod RunningNotReady(string name, params string[] containers)
    {
        var pod = Pod(name, statuses: [.. containers.Select(c => new V1ContainerStatus { Name = c, Image = "x", ImageID = "", Ready = false, RestartCount = 0, State = new V1ContainerState { Running = new V1ContainerStateRunning() } })]);
        pod.Status.Phase = "Running";
        return pod;
    }

    [Fact]
    public void A_pod_being_deleted_is_not_diagnosed_whatever_it_still_shows()
    {
        var leaving = Pod("p1", statuses: Waiting("ImagePullBackOff", "Back-off pulling image \"registry.test/app@sha256:abc\""));
        leaving.Metadata.DeletionTimestamp = DateTime.UtcNow;
        var events = new[] { Event("p1", "Failed", "Failed to pull image \"registry.test/app@sha256:abc\": 401 Unauthorized") };

        Assert.Empty(PodDiagnosis.Diagnose([leaving], events));
        leaving.Metadata.DeletionTimestamp = null;
        Assert.Single(PodDiagnosis.Diagnose([leaving], events));
    }

    [Fact]
    public void Readiness_failures_count_every_event_of_that_pod_only_and_name_the_one_unready_container()
    {
        var events = new[]
        {
            Event("p1", "Unhealthy", "Readiness probe failed: connection refused", count: 3),
            Event("p1", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count: 4),
            Event("p2", "Unhealthy", "Readiness probe failed: elsewhere", count: 50),
        };
        var problem = Assert.Single(PodDiagnosis.Diagnose([RunningNotReady("p1", "app")], events));
        Assert.Equal("app", problem.Container);
        Assert.Contains("(7 times)", problem.Message);
        Assert.Equal("pod p1, container app", problem.ToString().Split(':')[0]);

        var two = Assert.Single(PodDiagnosis.Diagnose([RunningNotReady("p1", "app", "sidecar")], [Event("p1", "Unhealthy", "Readiness probe failed: x")]));
        Assert.Null(two.Container);
        Assert.Contains("(1 time)", two.Message);
        Assert.StartsWith("pod p1: Unhealthy: ", two.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Liveness_failures_ready_pods_and_pods_not_running_are_no_readiness_problem()
    {
        Assert.Empty(PodDiagnosis.Diagnose([RunningNotReady("p1", "app")], [Event("p1", "Unhealthy", "Liveness probe failed: timeout")]));
        Assert.Empty(PodDiagnosis.Diagnose([RunningNotReady("p1", "app")], [Event("p1", "Killing", "Readiness probe failed: x")]));
        var ready = RunningNotReady("p1", "app");
        ready.Status.ContainerStatuses[0].Ready = true;
        Assert.Empty(PodDiagnosis.Diagnose([ready], [Event("p1", "Unhealthy", "Readiness probe failed: an old one")]));
        var pending = RunningNotReady("p1", "app");
        pending.Status.Phase = "Pending";
        Assert.Empty(PodDiagnosis.Diagnose([pending], [Event("p1", "Unhealthy", "Readiness probe failed: x")]));
    }

    [Fact]
    public void Only_pods_of_the_new_revision_are_looked_at()
    {
        var old = Pod("old", "h1", Waiting("CrashLoopBackOff"));
        var fresh = Pod("new", "h2", Waiting("ContainerCreating"));
        var selected = PodDiagnosis.NewRevisionPods([old, fresh], "pod-template-hash", "h2");
        Assert.Equal(["new"], selected.Select(p => p.Metadata.Name));
        Assert.Empty(PodDiagnosis.Diagnose(selected, []));
    }
}
