using Tesslate.Build.Docker;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Images;

public enum ImageAction
{
    /// <summary>Built and pushed: its fingerprint is not in the registry (or cannot prove the image unchanged, or a rebuild was forced).</summary>
    Build,

    /// <summary>The registry has <c>src-&lt;fingerprint&gt;</c>: only its manifest is tagged again.</summary>
    Reuse,

    /// <summary>Dry-run without a registry or a source root: whether it would be reused cannot be known.</summary>
    Unknown,
}

/// <summary>Why an image builds or is unknown; the release plan words it.</summary>
public enum DecisionReason
{
    /// <summary>The request forces a rebuild whatever the registry has.</summary>
    ForceBuild,

    /// <summary>A base image's digest is unknown, so the fingerprint cannot prove the image unchanged.</summary>
    BaseImageDigestUnknown,

    /// <summary>The registry has no image under the fingerprint's tag.</summary>
    NotInRegistry,

    /// <summary>Dry-run without a registry to ask.</summary>
    RegistryNotChecked,

    /// <summary>Dry-run without a source root: nothing to fingerprint.</summary>
    NoSourceRoot,

    /// <summary>Deciding failed (<see cref="ImageDecision.Failure"/>): the build will fail with it.</summary>
    WillFail,
}

/// <summary>What a build will do with one image, decided read-only before anything is pushed.</summary>
public sealed record ImageDecision
{
    public required string Name { get; init; }

    public required ImageAction Action { get; init; }

    /// <summary>Null without a source root, or when computing it failed.</summary>
    public ImageFingerprint? Fingerprint { get; init; }

    /// <summary>The manifest under the fingerprint's tag that a reuse tags again.</summary>
    public RegistryManifest? Existing { get; init; }

    /// <summary>Why it builds or is unknown; null for a reuse.</summary>
    public DecisionReason? Reason { get; init; }

    /// <summary>Deciding failed (unreadable Dockerfile, registry error): the build reports the image as failed with this.</summary>
    public Exception? Failure { get; init; }

    /// <summary>The tag whose manifest a reuse tags again.</summary>
    public string? ReuseTag => Action == ImageAction.Reuse ? Fingerprint?.Tag : null;

    /// <summary>
    /// What can be decided before asking the registry (pure): build when forced or when a base image's
    /// digest is unknown (the fingerprint cannot prove the image unchanged), unknown when the registry is not checked
    /// (dry-run without one); null when only the registry's answer for the fingerprint's tag can tell.
    /// </summary>
    public static ImageDecision? BeforeLookup(string name, ImageFingerprint fingerprint, bool forceBuild, bool registryChecked)
    {
        var build = new ImageDecision { Name = name, Action = ImageAction.Build, Fingerprint = fingerprint };
        if (forceBuild)
            return build with { Reason = DecisionReason.ForceBuild };
        if (!fingerprint.IsComplete)
            return build with { Reason = DecisionReason.BaseImageDigestUnknown };
        return registryChecked ? null : build with { Action = ImageAction.Unknown, Reason = DecisionReason.RegistryNotChecked };
    }

    /// <summary>After the lookup (pure): reuse the manifest the registry has under the fingerprint's tag, else build.</summary>
    public static ImageDecision AfterLookup(string name, ImageFingerprint fingerprint, RegistryManifest? existing) => existing is null
        ? new ImageDecision { Name = name, Action = ImageAction.Build, Fingerprint = fingerprint, Reason = DecisionReason.NotInRegistry }
        : new ImageDecision { Name = name, Action = ImageAction.Reuse, Fingerprint = fingerprint, Existing = existing };
}

/// <summary>
/// The read-only half of a build: the engine and builder probed, the revision, and per image its fingerprint and
/// whether it will be built or reused. A release plan shows it before the approval; the build then acts on it.
/// </summary>
public sealed record ImageBuildPlan
{
    public required IReadOnlyList<ImageDecision> Images { get; init; }

    /// <summary>Null under dry-run without a source root: nothing could be fingerprinted.</summary>
    internal IReadOnlyList<ImageSource>? Sources { get; init; }

    internal DockerBuilder? Builder { get; init; }

    internal string Commit { get; init; } = "";

    internal string RevisionTag { get; init; } = "";

    public ImageDecision this[string name] => Images.First(i => i.Name == name);
}
