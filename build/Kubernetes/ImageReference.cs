namespace Tesslate.Build.Kubernetes;

/// <summary>
/// A container image reference split the way registries see it: repository (registry host and path, no tag),
/// optional tag, optional digest. <c>localhost:5000/app:1@sha256:ab</c> → repository <c>localhost:5000/app</c>.
/// </summary>
public sealed record ImageReference(string Repository, string? Tag, string? Digest)
{
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

    public override string ToString() =>
        Repository + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);
}
