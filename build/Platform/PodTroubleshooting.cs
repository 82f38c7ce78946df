using Tesslate.Build.Kubernetes;

namespace Tesslate.Build.Platform;

/// <summary>
/// What <see cref="PodDiagnosis"/> found about a pod, turned into the fix in the pipeline's own words (its targets and
/// flags) as a pure function: the rollout waits take it as <see cref="RolloutWaitOptions.Fixes"/>.
/// </summary>
public static class PodTroubleshooting
{
    /// <summary>The platform the clusters' nodes run, which the catalog builds every image for.</summary>
    public const string NodePlatform = Tesslate.Build.Images.ImageDefinition.NodePlatform;

    public static string Fix(PodCause cause) => cause switch
    {
        PodCause.PullUnauthorized { EcrAccount: { } account, EcrRegion: { } region } ecr =>
            $"The nodes may not pull from ECR {ecr.Registry}: the node role needs ecr:GetAuthorizationToken, ecr:BatchGetImage and ecr:GetDownloadUrlForLayer "
            + $"(the AmazonEC2ContainerRegistryReadOnly policy) on account {account} in {region}, and a repository policy that lets that account pull. "
            + "If this run's own pushes were refused too, its ECR login expired: ./build.sh EcrLogin, then deploy again.",
        PodCause.PullUnauthorized other =>
            $"The node may not pull {other.Image}: check the registry credentials the pod uses (its imagePullSecret), then deploy again.",
        PodCause.ImageNotPushed missing =>
            $"{missing.Image} does not exist in the registry, and this run pushed no {missing.Repository}: the digest deployed must be one that was pushed; "
            + "rebuild and push the image (--images) or check the repository name.",
        PodCause.PushedDigestGone gone =>
            $"{gone.Image} is the digest this run pushed, yet the registry does not have it (deleted by a lifecycle policy, or pushed to another registry or account): "
            + "rebuild it with --force-build and deploy again.",
        PodCause.OtherImagePinned pinned =>
            $"{pinned.Image} does not exist in the registry; this run pushed {pinned.Repository}@{pinned.PushedDigest}: the manifest pins "
            + $"{(pinned.PinnedDigest is { } digest ? $"digest {digest}" : $"tag {pinned.PinnedTag}")} instead. "
            + "Deploy the pushed digest (KustomizeApply pins it from the build report) or rebuild the image (--images).",
        PodCause.NoPlatformVariant variant =>
            $"{variant.Image} has no {NodePlatform} variant for this node: rebuild it for the nodes' platform (--platform {NodePlatform}) and deploy again.",
        PodCause.PullFailed failed =>
            $"The node cannot pull {failed.Image}: check the registry is reachable from the cluster and the reference is right.",
        PodCause.ExitsAtStart exits =>
            $"The {(exits.Init ? "init container" : "container")} exits at start: read its last log lines (kubectl logs {exits.Pod} -c {exits.Container} --previous), "
            + "fix the cause (configuration, secrets, migrations) and deploy again.",
        PodCause.OutOfMemory oom =>
            $"Raise resources.limits.memory of container {oom.Container}{(oom.Limit is null ? "" : $" (now {oom.Limit})")}, or find what makes it grow.",
        PodCause.InitContainerExited exited =>
            $"Read the init container's log (kubectl logs {exited.Pod} -c {exited.Container}) and fix what it reports.",
        PodCause.NotStarted =>
            "The runtime could not start the container: check its command/entrypoint, volume mounts and security context.",
        PodCause.PodFailed =>
            "Inspect the pod's events and logs (kubectl describe pod).",
        PodCause.MissingKey key =>
            $"Add key '{key.Key}' to {key.ObjectKind} {key.Reference} (or mark the reference optional), then deploy again.",
        PodCause.MissingObject missing =>
            $"Create {missing.ObjectKind} '{missing.Name}'{(missing.Namespace is null ? "" : $" in namespace {missing.Namespace}")} (it is referenced by the pod but does not exist), then deploy again.",
        PodCause.MissingReference =>
            "The container's configuration refers to something missing (secret, config map, key or service account): create it and deploy again.",
        PodCause.NoNodeFits =>
            "No node fits the pod: free or add capacity (node group size, instance type), or lower its resource requests / fix its node selector, affinity or tolerations.",
        PodCause.ReadinessProbeFailing =>
            "The container runs but its readiness probe fails: check the probe's path/port and the application's startup (logs), or give it a longer initialDelaySeconds/failureThreshold.",
        _ => throw new ArgumentOutOfRangeException(nameof(cause), cause, "a pod cause without a fix"),
    };
}
