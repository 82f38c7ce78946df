using System.Collections.Concurrent;
using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes.Operations;

/// <summary>
/// The commit an image pinned by digest was built from: the OCI revision label of its config, which BuildImages
/// sets, read from the environment's registry. Images of other registries, and any registry error, give no sha:
/// Status still prints everything else.
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

    private Task<string?> FindAsync(ContainerImageState container, CancellationToken cancellationToken)
    {
        var image = ImageReference.Parse(container.Image);
        var digest = image.Digest ?? (container.RunningDigests.Count == 1 ? container.RunningDigests[0] : null);
        if (digest is null || image.Registry != registry.Registry)
            return Task.FromResult<string?>(null);
        return _known.GetOrAdd($"{image.Path}@{digest}", _ => LookUpAsync(image.Path, digest, cancellationToken));
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
