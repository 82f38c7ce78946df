namespace Tesslate.Build.Engine;

/// <summary>
/// A build parameter: <c>[Parameter("What it is")] readonly string SourceRoot;</c>. Its CLI name is the member name in
/// kebab-case (<c>--source-root</c>), its environment variable the build's prefix plus SCREAMING_SNAKE
/// (<c>TESSLATE_SOURCE_ROOT</c>), its key in <c>.nuke/parameters*.json</c> the member name.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class ParameterAttribute(string description) : Attribute
{
    public string Description { get; } = description;

    // The named arguments are fields, not init properties: the runtime sets an attribute's properties through
    // reflection, which compiles an invoke stub at start the second time one is used (about 2 ms of every start).
#pragma warning disable CA1051 // Visible instance fields: an attribute's named arguments, set only in its declaration.

    /// <summary>Overrides the CLI name (without dashes).</summary>
    public string? Name;

    /// <summary>Numbers and durations must be greater than zero.</summary>
    public bool Positive;

    /// <summary>Numbers must be at least this (checked when set).</summary>
    public int Minimum = int.MinValue;

    /// <summary>A list parameter whose empty value has a meaning of its own (--skip alone); other lists refuse an empty value.</summary>
    public bool EmptyListMeansSomething;

    /// <summary>Hidden from --help (still accepted).</summary>
    public bool Unlisted;
#pragma warning restore CA1051
}

/// <summary>The value is a secret: redacted in every output and masked on GitHub.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property)]
public sealed class SecretAttribute : Attribute;
