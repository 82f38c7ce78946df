using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Xunit;

namespace Tesslate.Build.Tests.Platform;

public sealed class PodTroubleshootingTests
{
    private const string Ecr = "859561299901.dkr.ecr.us-east-1.amazonaws.com";
    private static readonly string Pushed = "sha256:" + new string('b', 64);
    private static readonly string Pinned = "sha256:" + new string('a', 64);

    /// <summary>Each cause the diagnosis reports, and what its fix must say (the facts and the step to take).</summary>
    public static TheoryData<PodCause, string[]> Fixes => new()
    {
        { new PodCause.PullUnauthorized($"{Ecr}/tesslate-backend@{Pinned}", Ecr, "859561299901", "us-east-1"),
            [$"The nodes may not pull from ECR {Ecr}", "node role needs ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer",
                "AmazonEC2ContainerRegistryReadOnly", "account 859561299901 in us-east-1", "./build.sh EcrLogin, then deploy again"] },
        { new PodCause.PullUnauthorized("registry.test/app@sha256:abc", "registry.test", null, null),
            ["The node may not pull registry.test/app@sha256:abc", "imagePullSecret", "deploy again"] },
        { new PodCause.ImageNotPushed($"{Ecr}/tesslate-backend@{Pinned}", $"{Ecr}/tesslate-backend"),
            [$"{Ecr}/tesslate-backend@{Pinned} does not exist in the registry", $"this run pushed no {Ecr}/tesslate-backend", "rebuild and push the image (--images)"] },
        { new PodCause.PushedDigestGone($"{Ecr}/tesslate-backend@{Pushed}"),
            [$"{Ecr}/tesslate-backend@{Pushed} is the digest this run pushed", "lifecycle policy", "rebuild it with --force-build and deploy again"] },
        { new PodCause.OtherImagePinned($"{Ecr}/tesslate-backend@{Pinned}", $"{Ecr}/tesslate-backend", Pushed, Pinned, null),
            [$"this run pushed {Ecr}/tesslate-backend@{Pushed}", $"the manifest pins digest {Pinned} instead", "KustomizeApply pins it from the build report", "(--images)"] },
        { new PodCause.OtherImagePinned($"{Ecr}/tesslate-backend:beta", $"{Ecr}/tesslate-backend", Pushed, null, "beta"),
            ["the manifest pins tag beta instead"] },
        { new PodCause.NoPlatformVariant("registry.test/app:1"), ["registry.test/app:1 has no linux/amd64 variant", "--platform linux/amd64"] },
        { new PodCause.PullFailed("registry.test/app:1"), ["cannot pull registry.test/app:1", "registry is reachable from the cluster"] },
        { new PodCause.ExitsAtStart("p1", "app", Init: false), ["The container exits at start", "kubectl logs p1 -c app --previous", "deploy again"] },
        { new PodCause.ExitsAtStart("p1", "migrate", Init: true), ["The init container exits at start", "kubectl logs p1 -c migrate --previous"] },
        { new PodCause.OutOfMemory("app", "512Mi"), ["Raise resources.limits.memory of container app (now 512Mi)"] },
        { new PodCause.OutOfMemory("app", null), ["Raise resources.limits.memory of container app, or"] },
        { new PodCause.InitContainerExited("p1", "migrate"), ["kubectl logs p1 -c migrate"] },
        { new PodCause.NotStarted(), ["command/entrypoint, volume mounts and security context"] },
        { new PodCause.PodFailed(), ["kubectl describe pod"] },
        { new PodCause.MissingKey("DATABASE_URL", "Secret", "tesslate/tesslate-app-secrets"), ["Add key 'DATABASE_URL' to Secret tesslate/tesslate-app-secrets", "then deploy again"] },
        { new PodCause.MissingObject("secret", "tesslate-app-secrets", "tesslate"), ["Create secret 'tesslate-app-secrets' in namespace tesslate", "then deploy again"] },
        { new PodCause.MissingObject("configmap", "tesslate-config", null), ["Create configmap 'tesslate-config' (it is referenced"] },
        { new PodCause.MissingReference(), ["secret, config map, key or service account"] },
        { new PodCause.NoNodeFits(), ["No node fits the pod", "node group size"] },
        { new PodCause.ReadinessProbeFailing(), ["readiness probe fails", "initialDelaySeconds/failureThreshold"] },
    };

    [Theory]
    [MemberData(nameof(Fixes))]
    public void Each_cause_gets_its_fix_with_the_facts_it_carries(PodCause cause, string[] mentions)
    {
        var fix = PodTroubleshooting.Fix(cause);
        foreach (var mention in mentions)
            Assert.Contains(mention, fix, StringComparison.Ordinal);
    }

    [Fact]
    public void The_image_pull_advice_that_names_the_pipeline_goes_only_where_the_pipeline_can_help()
    {
        Assert.DoesNotContain("EcrLogin", PodTroubleshooting.Fix(new PodCause.PullUnauthorized("registry.test/app:1", "registry.test", null, null)), StringComparison.Ordinal);
        Assert.DoesNotContain("imagePullSecret", PodTroubleshooting.Fix(new PodCause.PullUnauthorized($"{Ecr}/x:1", Ecr, "859561299901", "us-east-1")), StringComparison.Ordinal);
        Assert.DoesNotContain("--force-build", PodTroubleshooting.Fix(new PodCause.ImageNotPushed("registry.test/app:1", "registry.test/app")), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_cause_the_diagnosis_can_report_has_a_row_in_the_table()
    {
        var causes = typeof(PodCause).GetNestedTypes().Where(t => t.IsSubclassOf(typeof(PodCause))).Select(t => t.Name).ToHashSet();
        var covered = Fixes.Select(row => row.Data.Item1.GetType().Name).ToHashSet();
        Assert.Equal(causes.Order(), covered.Order());
    }
}
