using Tesslate.Build.Engine;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Kubernetes;

/// <summary>
/// <see cref="IImageTagger"/> over the registry v2 client: resolve a tag with HEAD, move a tag by re-putting the
/// manifest the digest names (same bytes, same media type: no layer moves, the digest is unchanged). Repositories are
/// written as in image names (<c>host/path</c>); they must live in the client's registry.
/// </summary>
/// <param name="gate">Asked before a tag moves: an environment tag names what runs, so moving it is a change of the environment.</param>
/// <param name="rebuild">How the caller's user rebuilds an image (the pipeline: its BuildImages target), for the fix of a deleted one.</param>
public sealed class RegistryImageTagger(RegistryClient registry, ChangeGate? gate = null, string? rebuild = null) : IImageTagger
{
    public Task<string?> ResolveDigestAsync(string repository, string tag, CancellationToken cancellationToken) =>
        registry.GetDigestAsync(PathOf(repository), tag, cancellationToken);

    public async Task TagAsync(string repository, string digest, string tag, CancellationToken cancellationToken)
    {
        var path = PathOf(repository);
        if (gate is not null)
            await gate($"move {repository}:{tag} to {digest}", cancellationToken);
        var manifest = await registry.GetManifestAsync(path, digest, cancellationToken)
            ?? throw new BuildFailure($"Registry {registry.Registry}: {path}@{digest} is gone, so {tag} cannot point at it.",
                $"The image was deleted (lifecycle policy?): rebuild it{(rebuild is null ? "" : $" ({rebuild})")} and deploy again.");
        await registry.PutManifestAsync(path, tag, manifest, cancellationToken);
    }

    private string PathOf(string repository)
    {
        var prefix = registry.Registry + "/";
        if (repository.StartsWith(prefix, StringComparison.Ordinal))
            return repository[prefix.Length..];
        if (!repository.Contains('/') || !LooksLikeHost(repository[..repository.IndexOf('/')]))
            return repository;
        throw new BuildFailure($"The image repository {repository} is not in registry {registry.Registry}, so its tags cannot be moved from here.",
            "Only images of the environment's registry are promoted or rolled back by tag.");
    }

    private static bool LooksLikeHost(string first) => first.Contains('.') || first.Contains(':') || first == "localhost";
}
