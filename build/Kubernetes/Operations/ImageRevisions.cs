using System.Collections.Concurrent;
using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes.Operations;

/// <summary>
/// The commit an image was built from: the OCI revision label of its config, which BuildImages sets, read from the
/// environment's registry. A digest reference is looked up as it is; a tag reference (a third party's
/// <c>kubectl set image …:tag</c>, an old release) by the one digest its pods run, else by the digest the registry
/// gives the tag now. Images of other registries, and any registry error, give no sha: Status still prints everything else.
/// </summary>
public sealed class ImageRevisions(RegistryClient registry, ILogger logger)
{
    public const string RevisionLabel = "org.opencontainers.image.revision";

    private readonly ConcurrentDictionary<string, Task<string?>> _known = new(StringComparer.Ordinal);

    /// <summary>Each container without a sha from its tag gets the revision of the digest it names, or else of the one digest its pods run.</summary>
    public async Task<IReadOnlyList<WorkloadReadiness>> AddAsync(IReadOnlyList<WorkloadReadiness> workloads, CancellationToken cancellationToken) =>
        await Task.WhenAll(workloads.Select(async w => w with
        {
            Containers = await Task.WhenAll(w.Containers.Select(async c => c.GitSha is not null ? c : c with { GitSha = await FindAsync(c, cancellationToken) })),
        }));

    private async Task<string?> FindAsync(ContainerImageState container, CancellationToken cancellationToken)
    {
        var image = ImageReference.Parse(container.Image);
        if (image.Registry != registry.Registry)
            return null;
        var digest = image.Digest ?? (container.RunningDigests.Count == 1 ? container.RunningDigests[0] : null);
        if (digest is not null && await RevisionAsync(image.Path, digest, cancellationToken) is { } revision)
            return revision;
        if (image.Digest is not null || image.Tag is not { } tag)
            return null;
        var tagged = await _tags.GetOrAdd($"{image.Path}:{tag}", _ => TaggedDigestAsync(image.Path, tag, cancellationToken));
        return tagged is null ? null : await RevisionAsync(image.Path, tagged, cancellationToken);
    }

    private readonly ConcurrentDictionary<string, Task<string?>> _tags = new(StringComparer.Ordinal);

    private Task<string?> RevisionAsync(string path, string digest, CancellationToken cancellationToken) =>
        _known.GetOrAdd($"{path}@{digest}", _ => LookUpAsync(path, digest, cancellationToken));

    private async Task<string?> TaggedDigestAsync(string path, string tag, CancellationToken cancellationToken)
    {
        try
        {
            return await registry.GetDigestAsync(path, tag, cancellationToken);
        }
        catch (Exception e) when (e is BuildFailure or HttpRequestException)
        {
            logger.Debug("No digest for {Path}:{Tag}: {Error}", path, tag, e.Message);
            return null;
        }
    }

    private async Task<string?> LookUpAsync(string path, string digest, CancellationToken cancellationToken)
    {
        try
        {
            return (await registry.GetLabelsAsync(path, digest, cancellationToken)).GetValueOrDefault(RevisionLabel) is { Length: > 0 } revision ? revision : null;
        }
        catch (Exception e) when (e is BuildFailure or HttpRequestException)
        {
            logger.Debug("No revision for {Path}@{Digest}: {Error}", path, digest, e.Message);
            return null;
        }
    }
}
