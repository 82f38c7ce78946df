using System.ComponentModel;
using System.Text.Json.Serialization;

namespace Tesslate.Build.Images;

/// <summary>One image of the catalog: what to build, from where, and how it is tagged. One YAML file per image.</summary>
public sealed record ImageDefinition
{
    /// <summary>The image's catalog name, from its file name (<c>images/backend.yaml</c> → <c>backend</c>).</summary>
    [JsonIgnore]
    public string Name { get; init; } = "";

    /// <summary>The catalog file the definition was read from (for error messages).</summary>
    [JsonIgnore]
    public string SourceFile { get; init; } = "";

    [Description("Repository name in the registry, e.g. tesslate-backend; the image is <registry>/<repository>.")]
    public required string Repository { get; init; }

    [Description("Path of the Dockerfile, relative to the source root.")]
    public required string Dockerfile { get; init; }

    [Description("Build context directory, relative to the source root ('.' for the root). The Dockerfile must be inside it.")]
    public required string Context { get; init; }

    /// <summary>The platform the environments' nodes run, and so the images' default.</summary>
    public const string NodePlatform = "linux/amd64";

    [Description("Target platform passed to the builder.")]
    public string Platform { get; init; } = NodePlatform;

    [Description("Build arguments (--build-arg NAME=VALUE); part of the fingerprint.")]
    public Dictionary<string, string> BuildArgs { get; init; } = [];

    [Description("Ignore file applied to the context with either builder, relative to the catalog directory (images/). " +
                 "Default: <context>/.dockerignore when it exists.")]
    public string? IgnoreFile { get; init; }

    [Description("Which tags move when a build is promoted to an environment.")]
    public ImageTagRules Tags { get; init; } = new();

    [Description("Built when no --images are given.")]
    public bool DefaultSet { get; init; }

    [Description("Referenced at run time by name (started by the backend, not by a manifest), so its tags matter beyond the manifests.")]
    public bool RuntimeReferenced { get; init; }

    [Description("What the image is, for --help and docs.")]
    public string? Description { get; init; }
}

/// <summary>Tag rules. Every push gets immutable git-&lt;sha&gt; and src-&lt;fingerprint&gt; tags; these are the mutable ones.</summary>
public sealed record ImageTagRules
{
    [Description("Move the environment's tag (local, beta, production) when promoted to that environment.")]
    public bool Environment { get; init; } = true;

    [Description("Environments whose promotion also moves the 'latest' tag (e.g. [production]).")]
    public List<string> LatestOn { get; init; } = [];
}
