using k8s.Models;
using Tesslate.Build.Kubernetes;
using Xunit;
using static Tesslate.Build.Tests.Kubernetes.KubeFixtures;

namespace Tesslate.Build.Tests.Kubernetes;

public sealed class PodDiagnosisTests
{
    [Theory]
    [InlineData("failed to pull and unpack image: failed to resolve reference: pulling from host 1234.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests sha256:abc]: 401 Unauthorized", PodProblemKind.ImagePullUnauthorized, "imagePullSecret")]
    [InlineData("rpc error: code = NotFound desc = failed to pull and unpack image \"registry.test/app@sha256:abc\": not found", PodProblemKind.ImageNotFound, "pushed")]
    [InlineData("failed to pull and unpack image: no match for platform in manifest: not found", PodProblemKind.ImagePlatformMismatch, "linux/amd64")]
    public void Image_pull_failures_are_classified_from_the_kubelets_event(string eventMessage, PodProblemKind kind, string fixMentions)
    {
        var pod = Pod("p1", statuses: Waiting("ImagePullBackOff", "Back-off pulling image \"registry.test/app@sha256:abc\""));
        var problems = PodDiagnosis.Diagnose([pod], [Event("p1", "Failed", $"Failed to pull image \"registry.test/app@sha256:abc\": {eventMessage}")]);
        var problem = Assert.Single(problems);
        Assert.Equal(kind, problem.Kind);
        Assert.True(problem.IsTerminal);
        Assert.Contains(fixMentions, problem.Fix);
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
        Assert.Contains($"this run pushed {Ecr}@sha256:{new string('b', 64)}", problem.Fix);
        Assert.Contains($"pins digest sha256:{new string('a', 64)}", problem.Fix);
    }

    [Fact]
    public void A_missing_image_that_is_the_pushed_digest_points_at_its_deletion_and_one_not_pushed_at_the_build()
    {
        var digest = "sha256:" + new string('c', 64);
        var gone = PullFailure($"{Ecr}@{digest}", "manifest unknown", new Dictionary<string, string> { [Ecr] = digest });
        Assert.Contains("is the digest this run pushed", gone.Fix);
        Assert.Contains("--force-build", gone.Fix);

        var notPushed = PullFailure($"{Ecr}@{digest}", "not found");
        Assert.Contains($"this run pushed no {Ecr}", notPushed.Fix);
        Assert.Contains("--images", notPushed.Fix);
    }

    [Fact]
    public void An_unauthorized_ecr_pull_points_at_the_node_roles_ecr_permissions_and_EcrLogin()
    {
        var problem = PullFailure($"{Ecr}@sha256:{new string('a', 64)}", "failed to authorize: failed to fetch anonymous token: 401 Unauthorized");

        Assert.Equal(PodProblemKind.ImagePullUnauthorized, problem.Kind);
        Assert.Contains("node role needs ecr:GetAuthorizationToken, ecr:BatchGetImage", problem.Fix);
        Assert.Contains("account 859561299901 in us-east-1", problem.Fix);
        Assert.Contains("./build.sh EcrLogin", problem.Fix);
        Assert.DoesNotContain("imagePullSecret", problem.Fix);
    }

    [Fact]
    public void A_crash_loop_is_terminal_and_asks_for_the_previous_containers_log()
    {
        var pod = Pod("p1", statuses: Waiting("CrashLoopBackOff", "back-off 40s", restarts: 4, last: new V1ContainerStateTerminated { ExitCode = 1, Reason = "Error" }));
        var problem = Assert.Single(PodDiagnosis.Diagnose([pod], []));
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
        Assert.Contains("512Mi", problem.Fix);
    }

    [Theory]
    [InlineData("secret \"tesslate-app-secrets\" not found", "Create secret 'tesslate-app-secrets' in namespace tesslate")]
    [InlineData("couldn't find key DATABASE_URL in Secret tesslate/tesslate-app-secrets", "Add key 'DATABASE_URL' to Secret tesslate/tesslate-app-secrets")]
    [InlineData("configmap \"tesslate-config\" not found", "Create configmap 'tesslate-config'")]
    public void A_container_config_error_names_the_missing_secret_or_key(string message, string fix)
    {
        var problem = Assert.Single(PodDiagnosis.Diagnose([Pod("p1", statuses: Waiting("CreateContainerConfigError", message))], []));
        Assert.Equal(PodProblemKind.MissingConfig, problem.Kind);
        Assert.StartsWith(fix, problem.Fix);
    }

    [Fact]
    public void An_unschedulable_pod_shows_the_schedulers_event_and_is_not_terminal()
    {
        var pod = Pod("p1");
        pod.Status.Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = "0/3 nodes" }];
        var problem = Assert.Single(PodDiagnosis.Diagnose([pod], [Event("p1", "FailedScheduling", "0/3 nodes are available: 3 Insufficient memory.")]));
        Assert.Equal(PodProblemKind.Unschedulable, problem.Kind);
        Assert.False(problem.IsTerminal);
        Assert.Contains("Insufficient memory", problem.Message);
    }

    [Fact]
    public void Failing_readiness_probes_are_reported_from_events()
    {
        var pod = Pod("p1", statuses: new V1ContainerStatus { Name = "app", Image = "x", ImageID = "", Ready = false, RestartCount = 0, State = new V1ContainerState { Running = new V1ContainerStateRunning() } });
        pod.Status.Phase = "Running";
        var problem = Assert.Single(PodDiagnosis.Diagnose([pod], [Event("p1", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", count: 7)]));
        Assert.Equal(PodProblemKind.ReadinessFailing, problem.Kind);
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
