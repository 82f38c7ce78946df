namespace Tesslate.Build.Registry;

/// <summary>
/// An image reference split the way Docker splits it: <c>[registry/]repository[:tag][@digest]</c>. A first component with
/// a dot, a colon or "localhost" is a registry; otherwise the image is on Docker Hub (<c>docker.io</c>, <c>library/</c> for single names).
/// </summary>
public sealed record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    public string Reference => Digest ?? Tag ?? "latest";

    public override string ToString() => $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is null ? "" : "@" + Digest)}";

    public static ImageReference Parse(string reference)
    {
        var rest = reference.Trim();
        string? digest = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
        }
        var registry = DockerHub;
        var slash = rest.IndexOf('/');
        if (slash > 0)
        {
            var first = rest[..slash];
            if (first.Contains('.') || first.Contains(':') || first == "localhost")
            {
                registry = first;
                rest = rest[(slash + 1)..];
            }
        }
        string? tag = null;
        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
        }
        if (registry == DockerHub && !rest.Contains('/'))
            rest = "library/" + rest;
        if (digest is null && tag is null)
            tag = "latest";
        return new ImageReference(registry, rest, tag, digest);
    }
}
