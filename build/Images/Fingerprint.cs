using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

namespace Tesslate.Build.Images;

/// <summary>A base image's reference and the digest the builder will use (null when it could not be resolved).</summary>
public sealed record BaseImageDigest(string Reference, string? Digest);

/// <summary>The fingerprint of an image's build inputs and what went into it (for the log and for explaining a rebuild).</summary>
public sealed record ImageFingerprint(
    string Value,
    int FileCount,
    string? WholeContextReason,
    ImmutableArray<BaseImageDigest> BaseImages,
    ImmutableArray<string> Inputs)
{
    /// <summary>A fingerprint with an unresolved base cannot prove the image unchanged, so such an image is always built.</summary>
    public bool IsComplete => BaseImages.All(b => b.Digest is not null);

    public string Tag => "src-" + Value;
}

/// <summary>
/// Computes the fingerprint: the Dockerfile; the files its COPY/ADD can read from the context after the ignore file
/// (the whole context when an instruction cannot be narrowed); build args; platform; each FROM image's resolved digest.
/// Labels and timestamps are not inputs, so an unchanged source gives the same fingerprint on any machine.
/// </summary>
public static class FingerprintCalculator
{
    private const string Version = "tesslate-fingerprint-v1";

    public static DockerfileInputs ReadDockerfile(ImageSource source) =>
        DockerfileParser.Parse(File.ReadAllText(source.DockerfilePath), source.Definition.BuildArgs);

    /// <summary>Files of the context the build can read, per the Dockerfile's instructions.</summary>
    public static IReadOnlyList<ContextFile> ReadableFiles(ImageSource source, DockerfileInputs inputs)
    {
        var files = BuildContext.Files(source.ContextDirectory, source.Ignore);
        return inputs.ReadsWholeContext ? files : [.. BuildContext.Readable(files, inputs.ContextSources)];
    }

    public static ImageFingerprint Compute(ImageSource source, DockerfileInputs inputs, IReadOnlyList<BaseImageDigest> baseImages)
    {
        var lines = new List<string>
        {
            Version,
            "dockerfile " + HashFile(source.DockerfilePath),
            "platform " + source.Definition.Platform,
        };
        lines.AddRange(source.Definition.BuildArgs.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"arg {a.Key}={a.Value}"));
        lines.AddRange(baseImages.Select(b => $"from {b.Reference} {b.Digest ?? "unresolved"}"));
        lines.AddRange(inputs.RemoteSources.Select(r => "remote " + r));
        var files = ReadableFiles(source, inputs);
        foreach (var file in files)
            lines.Add($"file {file.RelativePath} {Describe(file)}");

        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines)));
        var value = Convert.ToHexStringLower(digest)[..32];
        return new ImageFingerprint(value, files.Count, inputs.WholeContextReason, [.. baseImages], [.. lines]);
    }

    private static string Describe(ContextFile file)
    {
        var info = new FileInfo(file.FullPath);
        if (file.IsSymbolicLink)
            return "link " + info.LinkTarget;
        // The executable bit survives COPY, so it changes the image.
        var executable = !OperatingSystem.IsWindows() && (info.UnixFileMode & UnixFileMode.UserExecute) != 0;
        return (executable ? "x " : "- ") + HashFile(file.FullPath);
    }

    private static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
