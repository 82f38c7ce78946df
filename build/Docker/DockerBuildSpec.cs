using System.Collections.Immutable;

namespace Tesslate.Build.Docker;

/// <summary>Everything one image build needs, independent of the builder that runs it.</summary>
public sealed record DockerBuildSpec
{
    public required string Dockerfile { get; init; }

    public required string ContextDirectory { get; init; }

    public required string Platform { get; init; }

    /// <summary>Full references, <c>registry/repository:tag</c>.</summary>
    public required ImmutableArray<string> Tags { get; init; }

    public ImmutableSortedDictionary<string, string> Labels { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    public ImmutableSortedDictionary<string, string> BuildArgs { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    public bool NoCache { get; init; }

    /// <summary>buildx only: a named builder (<c>--builder</c>), e.g. a remote BuildKit.</summary>
    public string? Builder { get; init; }

    /// <summary>buildx only: a registry cache reference (<c>--cache-from/--cache-to type=registry</c>); null when the driver cannot export.</summary>
    public string? RegistryCache { get; init; }

    /// <summary>buildx only: where buildx writes the pushed digest.</summary>
    public string? MetadataFile { get; init; }
}

/// <summary>The docker command lines for a build, as argument lists (pure, so tests check them by their arguments).</summary>
public static class DockerBuildCommands
{
    /// <summary><c>docker buildx build --platform … --push</c>: builds and pushes every tag in one call.</summary>
    public static IReadOnlyList<string> BuildxBuild(DockerBuildSpec spec)
    {
        var arguments = new List<string> { "buildx", "build" };
        if (spec.Builder is not null)
            arguments.AddRange(["--builder", spec.Builder]);
        arguments.AddRange(["--platform", spec.Platform, "--file", spec.Dockerfile]);
        arguments.AddRange(Common(spec));
        if (spec.RegistryCache is not null)
        {
            arguments.AddRange(["--cache-from", $"type=registry,ref={spec.RegistryCache}"]);
            // ECR rejects the default cache manifest list; an OCI image manifest works there and in every v2 registry.
            arguments.AddRange(["--cache-to", $"type=registry,ref={spec.RegistryCache},mode=max,image-manifest=true,oci-mediatypes=true"]);
        }
        // One manifest per platform, not an attestation index: keeps the pushed digest the image's own.
        arguments.AddRange(["--provenance=false"]);
        if (spec.MetadataFile is not null)
            arguments.AddRange(["--metadata-file", spec.MetadataFile]);
        arguments.AddRange(["--push", spec.ContextDirectory]);
        return arguments;
    }

    /// <summary><c>docker build</c> with the classic builder (no buildx): builds locally; pushes follow with <see cref="Push"/>.</summary>
    public static IReadOnlyList<string> ClassicBuild(DockerBuildSpec spec)
    {
        var arguments = new List<string> { "build", "--platform", spec.Platform, "--file", spec.Dockerfile };
        arguments.AddRange(Common(spec));
        arguments.Add(spec.ContextDirectory);
        return arguments;
    }

    public static IReadOnlyList<string> Push(string reference) => ["push", reference];

    private static IEnumerable<string> Common(DockerBuildSpec spec)
    {
        foreach (var tag in spec.Tags)
        {
            yield return "--tag";
            yield return tag;
        }
        foreach (var (name, value) in spec.BuildArgs)
        {
            yield return "--build-arg";
            yield return $"{name}={value}";
        }
        foreach (var (name, value) in spec.Labels)
        {
            yield return "--label";
            yield return $"{name}={value}";
        }
        if (spec.NoCache)
            yield return "--no-cache";
    }
}
