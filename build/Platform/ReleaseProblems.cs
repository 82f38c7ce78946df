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

    /// <summary>One allowed volume change as the user names it (<c>--allow-volume-change Kind/name</c>); bad input otherwise.</summary>
    public static VolumeAllowance Allowance(string text) =>
        VolumeAllowance.TryParse(text) ?? throw new UsageException($"--allow-volume-change '{text}' does not name an object.",
            "Name it as Kind/name (or Kind/namespace/name), as the release plan prints it, e.g. --allow-volume-change Deployment/postgres.");

    /// <summary>The guard's (label, text) rows for the release plan, blocking problems first.</summary>
    public static IReadOnlyList<(string Label, string Text)> GuardRows(GuardReport guard)
    {
        var rows = new List<(string, string)>();
        foreach (var refusal in guard.Refusals)
        {
            rows.Add(("refused", refusal.ToString()));
            rows.Add(("  fix", refusal.Fix));
        }
        foreach (var change in guard.VolumeChanges)
            rows.Add(("volume", guard.AllowanceFor(change) is { } allowance
                ? $"{change} (allowed by --allow-volume-change {allowance})"
                : $"{change} (stops the release: --allow-volume-change {change.Object.Kind}/{change.Object.Name} if deliberate)"));
        if (guard.Takeovers.Count > 0)
            rows.Add(("takeover", $"{guard.Takeovers.Count} object(s) applied with kubectl apply before: field ownership moves to this pipeline ({string.Join(", ", guard.Takeovers.Select(t => t.Object.ToString()))})"));
        return rows;
    }

    /// <summary>The guard's stop before the first change, naming every blocking problem with its fix; null when nothing blocks.</summary>
    public static BuildFailure? GuardFailure(GuardReport guard)
    {
        if (!guard.Blocking)
            return null;
        var lines = new List<string> { "The release would break the running environment, so nothing was applied:" };
        foreach (var refusal in guard.Refusals)
            lines.Add($"  ✗ {refusal}{System.Environment.NewLine}      fix: {refusal.Fix}");
        foreach (var change in guard.BlockedVolumeChanges)
            lines.Add($"  ✗ data volume: {change}");
        var fixes = new List<string>();
        if (guard.Refusals.Count > 0)
            fixes.Add("Keep the live values of the refused fields in the manifests (each fix above); the pipeline never deletes and recreates an object");
        if (guard.BlockedVolumeChanges.Count > 0)
            fixes.Add($"if moving the data is deliberate, allow each change: {string.Join(" ", guard.BlockedVolumeChanges.Select(c => $"{c.Object.Kind}/{c.Object.Name}").Distinct().Select(o => "--allow-volume-change " + o))} (the release plan then lists it under the approval); otherwise make the manifests mount what runs");
        return new BuildFailure(string.Join(System.Environment.NewLine, lines), string.Join("; ", fixes) + ".");
    }
}
