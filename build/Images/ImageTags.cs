namespace Tesslate.Build.Images;

/// <summary>Which tags an image gets: immutable ones on every push, mutable ones only on promotion.</summary>
public static class ImageTags
{
    /// <summary>The BuildKit registry cache's tag; no rule of terraform/shared's ECR lifecycle policy selects it (tested).</summary>
    public const string Cache = "buildcache";

    public static string Revision(string commit, bool dirty = false) => $"git-{commit[..Math.Min(12, commit.Length)]}{(dirty ? "-dirty" : "")}";

    /// <summary>The mutable tags promotion to <paramref name="environment"/> moves: the environment's own, and <c>latest</c> where the catalog says so.</summary>
    public static IReadOnlyList<string> Promotion(ImageDefinition image, string environment)
    {
        var tags = new List<string>();
        if (image.Tags.Environment)
            tags.Add(environment);
        if (image.Tags.LatestOn.Contains(environment, StringComparer.Ordinal))
            tags.Add("latest");
        return tags;
    }
}
