using Tesslate.Build.Images;
using Tesslate.Build.Registry;
using Xunit;

namespace Tesslate.Build.Tests.Images;

/// <summary>Build, reuse or unknown, decided from the fingerprint, the flags and the registry's answer (pure).</summary>
public sealed class ImageDecisionTests
{
    private static readonly ImageFingerprint Complete = new("0123456789abcdef", 4, null, [new BaseImageDigest("busybox:1", "sha256:bb")], []);
    private static readonly ImageFingerprint BaseUnknown = Complete with { BaseImages = [new BaseImageDigest("busybox:1", null), new BaseImageDigest("scratch", "sha256:00")] };
    private static readonly RegistryManifest Existing = new(RegistryClient.OciManifest, [1, 2, 3], "sha256:aa");

    [Fact]
    public void Force_build_builds_even_when_everything_else_would_allow_a_reuse()
    {
        var decision = ImageDecision.BeforeLookup("backend", Complete, forceBuild: true, registryChecked: true);
        Assert.Equal(new ImageDecision { Name = "backend", Action = ImageAction.Build, Fingerprint = Complete, Reason = DecisionReason.ForceBuild }, decision);
        Assert.Null(decision!.ReuseTag);
    }

    [Fact]
    public void A_base_image_without_a_digest_builds_since_the_fingerprint_cannot_prove_the_image_unchanged()
    {
        Assert.False(BaseUnknown.IsComplete);
        Assert.Equal(new ImageDecision { Name = "backend", Action = ImageAction.Build, Fingerprint = BaseUnknown, Reason = DecisionReason.BaseImageDigestUnknown },
            ImageDecision.BeforeLookup("backend", BaseUnknown, forceBuild: false, registryChecked: true));
        Assert.Equal(DecisionReason.BaseImageDigestUnknown, ImageDecision.BeforeLookup("backend", BaseUnknown, forceBuild: false, registryChecked: false)?.Reason);
    }

    [Fact]
    public void Without_the_registry_whether_a_complete_fingerprint_would_be_reused_is_unknown() =>
        Assert.Equal(new ImageDecision { Name = "ast", Action = ImageAction.Unknown, Fingerprint = Complete, Reason = DecisionReason.RegistryNotChecked },
            ImageDecision.BeforeLookup("ast", Complete, forceBuild: false, registryChecked: false));

    [Fact]
    public void A_complete_fingerprint_with_the_registry_checked_is_decided_by_the_lookup() =>
        Assert.Null(ImageDecision.BeforeLookup("ast", Complete, forceBuild: false, registryChecked: true));

    [Fact]
    public void The_registry_having_the_fingerprints_tag_means_reuse_of_that_manifest()
    {
        var decision = ImageDecision.AfterLookup("ast", Complete, Existing);
        Assert.Equal(new ImageDecision { Name = "ast", Action = ImageAction.Reuse, Fingerprint = Complete, Existing = Existing }, decision);
        Assert.Equal("src-0123456789abcdef", decision.ReuseTag);
    }

    [Fact]
    public void The_registry_not_having_it_means_build()
    {
        var decision = ImageDecision.AfterLookup("ast", Complete, null);
        Assert.Equal(new ImageDecision { Name = "ast", Action = ImageAction.Build, Fingerprint = Complete, Reason = DecisionReason.NotInRegistry }, decision);
        Assert.Null(decision.ReuseTag);
    }

    [Fact]
    public void The_plan_finds_an_image_by_name()
    {
        var plan = new ImageBuildPlan { Images = [ImageDecision.AfterLookup("ast", Complete, null), ImageDecision.AfterLookup("backend", Complete, Existing)] };
        Assert.Equal(ImageAction.Reuse, plan["backend"].Action);
        Assert.Equal(ImageAction.Build, plan["ast"].Action);
    }
}
