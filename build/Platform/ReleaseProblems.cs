using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;

namespace Tesslate.Build.Platform;

/// <summary>What the Kubernetes adapters found, turned into the message and the fix in the pipeline's own words (its flags).</summary>
public static class ReleaseProblems
{
    /// <summary>
    /// The stop when a referenced image has no digest anywhere: names the images and the <c>--images</c> value that
    /// builds them; null when every image has one. <paramref name="imageNames"/>: repository → catalog image name.
    /// </summary>
    public static BuildFailure? MissingDigests(PinResolution resolution, IReadOnlyDictionary<string, string> imageNames, string environment, string tag, string registry)
    {
        if (resolution.Missing.Count == 0)
            return null;
        var names = resolution.Missing.Select(m => imageNames.GetValueOrDefault(m, m)).ToList();
        return new BuildFailure($"No digest for {string.Join(", ", names)}: not built in this run, not running in {environment}, and no :{tag} tag in {registry}.",
            $"Build them in this run: --images {string.Join(",", names)} (added to what you deploy).");
    }
}
