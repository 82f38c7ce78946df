namespace Tesslate.Build.Registry;

/// <summary>
/// A container image reference split as written: repository (registry host and path, no tag), optional tag, optional
/// digest. <c>localhost:5000/app:1@sha256:ab</c> → repository <c>localhost:5000/app</c>. <see cref="Registry"/>,
/// <see cref="Path"/> and <see cref="Reference"/> resolve it the way Docker does, for asking a registry about it.
/// </summary>
public sealed record ImageReference(string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    public static ImageReference Parse(string reference)
    {
        var text = reference.Trim();
        string? digest = null;
        var at = text.IndexOf('@');
        if (at >= 0)
        {
            digest = text[(at + 1)..];
            text = text[..at];
        }
        string? tag = null;
        var lastSlash = text.LastIndexOf('/');
        var colon = text.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = text[(colon + 1)..];
            text = text[..colon];
        }
        return new ImageReference(text, tag, digest);
    }

    public bool IsPinned => Digest is not null;

    /// <summary>The registry host: a first component with a dot, a colon or "localhost"; otherwise Docker Hub.</summary>
    public string Registry => Locate().Registry;

    /// <summary>The repository's path inside <see cref="Registry"/> (<c>library/</c> for single Docker Hub names).</summary>
    public string Path => Locate().Path;

    /// <summary>What to ask the registry for: the digest, else the tag, else <c>latest</c>.</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    public override string ToString() =>
        Repository + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    private (string Registry, string Path) Locate()
    {
        var slash = Repository.IndexOf('/');
        if (slash > 0)
        {
            var first = Repository[..slash];
            if (first.Contains('.') || first.Contains(':') || first == "localhost")
                return (first, Repository[(slash + 1)..]);
        }
        return (DockerHub, Repository.Contains('/') ? Repository : "library/" + Repository);
    }
}
