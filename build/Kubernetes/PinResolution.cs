namespace Tesslate.Build.Kubernetes;

public enum PinSource
{
    /// <summary>Built or reused in this run (the build report).</summary>
    Build,

    /// <summary>What the live object that references it runs (or, for run-time images, names) now.</summary>
    Live,

    /// <summary>The digest the environment tag names in the registry.</summary>
    EnvironmentTag,
}

public sealed record ResolvedPin(string Repository, string Digest, PinSource Source)
{
    public string Reference => $"{Repository}@{Digest}";
}

/// <summary>Where digests come from, asked in this order: the build, the live objects carrying the repository, the registry's environment tag.</summary>
public sealed record DigestSources(
    Func<string, string?> Built,
    Func<string, IReadOnlyList<ObjectRef>, CancellationToken, Task<string?>> Live,
    Func<string, CancellationToken, Task<string?>> Tagged);

/// <summary>A digest for every repository the rendered objects reference, and the repositories without one.</summary>
public sealed record PinResolution(IReadOnlyList<ResolvedPin> Pins, IReadOnlyList<string> Missing)
{
    /// <summary>repository → repository@digest, as <see cref="DigestPinning.Pin"/> takes them.</summary>
    public IReadOnlyDictionary<string, string> Map => Pins.ToDictionary(p => p.Repository, p => p.Reference, StringComparer.Ordinal);

    /// <summary>
    /// Resolves only the repositories <paramref name="referenced"/> names (repository → the objects carrying it): an
    /// image the overlay does not use (the compute overlay's CSI driver in a beta Deploy) needs no digest.
    /// </summary>
    public static async Task<PinResolution> ResolveAsync(IReadOnlyDictionary<string, IReadOnlyList<ObjectRef>> referenced, DigestSources sources, CancellationToken cancellationToken)
    {
        var pins = new List<ResolvedPin>();
        var missing = new List<string>();
        foreach (var (repository, carriers) in referenced.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (sources.Built(repository) is { } built)
                pins.Add(new ResolvedPin(repository, built, PinSource.Build));
            else if (await sources.Live(repository, carriers, cancellationToken) is { } live)
                pins.Add(new ResolvedPin(repository, live, PinSource.Live));
            else if (await sources.Tagged(repository, cancellationToken) is { } tagged)
                pins.Add(new ResolvedPin(repository, tagged, PinSource.EnvironmentTag));
            else
                missing.Add(repository);
        }
        return new PinResolution(pins, missing);
    }
}
