using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>A catalog image: its name in images/ and its registry repository.</summary>
internal sealed record CatalogImage(string Name, string Repository, bool ReferencedAtRunTime);

/// <summary>An overlay directory and what the checks expect of it.</summary>
internal sealed record OverlayUnderTest(string Path, string? EnvironmentTag, string? Registry, bool IsAws, bool HoldsTesslate)
{
    public bool IsDeployable => EnvironmentTag is not null;

    public override string ToString() => Path;
}

/// <summary>Where the infrastructure lives and what it must contain, in one place.</summary>
internal static class InfrastructureLayout
{
    public const string AwsRegistry = "859561299901.dkr.ecr.us-east-1.amazonaws.com";
    public const string LocalRegistry = "localhost:5000";
    public const string RuntimeImagesConfigMap = "tesslate-runtime-images";

    /// <summary>
    /// The image catalog. Stand-in until the catalog loader (images/*) is wired here: replace this list with
    /// the loader's entries and every test below follows.
    /// </summary>
    public static readonly IReadOnlyList<CatalogImage> Catalog =
    [
        new("backend", "tesslate-backend", false),
        new("frontend", "tesslate-frontend", false),
        new("devserver", "tesslate-devserver", true),
        new("ast", "tesslate-ast", false),
        new("marketplace", "tesslate-marketplace", false),
        new("compute", "tesslate-btrfs-csi", false),
        new("markitdown", "tesslate-markitdown", true),
        new("deerflow", "tesslate-deerflow", true),
    ];

    public static readonly IReadOnlyList<OverlayUnderTest> Overlays =
    [
        new("k8s/overlays/aws-base", null, AwsRegistry, IsAws: true, HoldsTesslate: true),
        new("k8s/overlays/aws-beta", "beta", AwsRegistry, IsAws: true, HoldsTesslate: true),
        new("k8s/overlays/aws-beta/compute", "beta", AwsRegistry, IsAws: true, HoldsTesslate: false),
        new("k8s/overlays/aws-production", "production", AwsRegistry, IsAws: true, HoldsTesslate: true),
        new("k8s/overlays/aws-production/compute", "production", AwsRegistry, IsAws: true, HoldsTesslate: false),
        new("k8s/overlays/local", "local", LocalRegistry, IsAws: false, HoldsTesslate: true),
    ];

    public static IEnumerable<OverlayUnderTest> Deployable => Overlays.Where(overlay => overlay.IsDeployable);

    public static OverlayUnderTest Overlay(string path) => Overlays.Single(overlay => overlay.Path == path);

    public static TheoryData<string> AllOverlayPaths() => [.. Overlays.Select(overlay => overlay.Path)];

    public static TheoryData<string> DeployableOverlayPaths() => [.. Deployable.Select(overlay => overlay.Path)];

    public static TheoryData<string> TesslateOverlayPaths() => [.. Deployable.Where(overlay => overlay.HoldsTesslate).Select(overlay => overlay.Path)];

    public static TheoryData<string> AwsDeployableOverlayPaths() => [.. Deployable.Where(overlay => overlay.IsAws).Select(overlay => overlay.Path)];

    public static string Full(string relativePath) => System.IO.Path.Combine(RepositoryPaths.Root, relativePath);
}
