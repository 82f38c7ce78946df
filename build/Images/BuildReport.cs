using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Images;

[JsonConverter(typeof(JsonStringEnumConverter<ImageOutcome>))]
public enum ImageOutcome
{
    /// <summary>Built and pushed in this run.</summary>
    Built,

    /// <summary>Its fingerprint was already in the registry: only tags were added (no build, no pull, no layer push).</summary>
    Reused,

    /// <summary>Dry-run: what would have happened was printed.</summary>
    Planned,

    Failed,
}

/// <summary>One image of a build: where it went, under which tags, and what it is (its digest).</summary>
public sealed record ImageReport
{
    public required string Name { get; init; }

    public required string Registry { get; init; }

    public required string Repository { get; init; }

    public ImmutableArray<string> Tags { get; init; } = [];

    /// <summary><c>sha256:…</c> of the pushed manifest (or index); null when nothing was pushed.</summary>
    public string? Digest { get; init; }

    public required ImageOutcome Outcome { get; init; }

    public string? Fingerprint { get; init; }

    public string? Revision { get; init; }

    public TimeSpan Duration { get; init; }

    public string? LogPath { get; init; }

    public string? Error { get; init; }

    /// <summary>The failed image's last log lines (failures only).</summary>
    public ImmutableArray<string> LastLines { get; init; } = [];

    [JsonIgnore]
    public string Image => $"{Registry}/{Repository}";

    /// <summary>The immutable reference deploys use: <c>registry/repository@sha256:…</c>.</summary>
    [JsonIgnore]
    public string? PinnedReference => Digest is null ? null : $"{Image}@{Digest}";
}

/// <summary>
/// The result of BuildImages: per image repository, tags, digest, built or reused, fingerprint, duration, log path.
/// Written on its own (<c>--build-report PATH</c>) so a later job can deploy exactly these images.
/// </summary>
public sealed record BuildReport
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    public string? Registry { get; init; }

    public string? Revision { get; init; }

    public string? Environment { get; init; }

    public bool Promoted { get; init; }

    public bool DryRun { get; init; }

    public DateTimeOffset Created { get; init; }

    public TimeSpan Duration { get; init; }

    public ImmutableArray<ImageReport> Images { get; init; } = [];

    [JsonIgnore]
    public IEnumerable<ImageReport> Failed => Images.Where(i => i.Outcome == ImageOutcome.Failed);

    [JsonIgnore]
    public bool Succeeded => !Failed.Any();

    public ImageReport? this[string name] => Images.FirstOrDefault(i => i.Name == name);

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public static BuildReport FromJson(string json) => JsonSerializer.Deserialize<BuildReport>(json, Options)
        ?? throw new JsonException("The build report is empty.");

    public void Write(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, ToJson());
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a report written by an earlier image build (e.g. another CI job).</summary>
    public static BuildReport Read(string path)
    {
        if (!File.Exists(path))
            throw new UsageException($"The build report '{path}' does not exist.", "Use the report an image build wrote (its path is printed at the end of that run), or build the images first.");
        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new UsageException($"'{path}' is not a build report: {e.Message}", "Use the JSON file an image build wrote.");
        }
    }

    /// <summary>Throws the run's failure when an image failed: each failed image, its error, its last lines and its log path.</summary>
    public void EnsureSuccess()
    {
        var failed = Failed.ToList();
        if (failed.Count == 0)
            return;
        var nl = System.Environment.NewLine;
        var details = string.Join(nl, failed.Select(f =>
            $"[{f.Name}] {f.Error}{nl}{string.Join(nl, f.LastLines.Select(l => "    " + l))}{nl}    full log: {f.LogPath}"));
        var pushed = Images.Where(i => i.Outcome is ImageOutcome.Built or ImageOutcome.Reused).Select(i => i.Name).ToList();
        throw new BuildFailure(
            $"{failed.Count} of {Images.Length} image{(Images.Length > 1 ? "s" : "")} failed: {string.Join(", ", failed.Select(f => f.Name))}." +
            $"{(pushed.Count > 0 ? $" Pushed: {string.Join(", ", pushed)}." : "")}{nl}{details}",
            "Read the failed image's log above; after fixing it, rerun: images that did not change are reused, not rebuilt.");
    }
}
