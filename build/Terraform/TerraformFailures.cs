using System.Text.RegularExpressions;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;

namespace Tesslate.Build.Terraform;

/// <summary>
/// Turns Terraform's well-known errors into failures that say what happened and what to do:
/// a state lock held by someone else, a saved plan that went stale, an apply interrupted half-way.
/// </summary>
public static partial class TerraformFailures
{
    /// <summary>A failure for the output of a failed command, or null when the output is not one of the known cases.</summary>
    public static BuildFailure? Explain(IEnumerable<string> outputLines, TerraformSettings settings, Exception? inner = null)
    {
        var lines = outputLines.Select(Plain).ToList();
        if (lines.Any(l => l.Contains("Error acquiring the state lock", StringComparison.Ordinal)))
            return LockHeld(lines, settings, inner);
        if (lines.Any(l => l.Contains("Saved plan is stale", StringComparison.Ordinal)))
            return StalePlan(settings, inner);
        return null;
    }

    /// <summary>The run was stopped during apply or destroy: Terraform got one interrupt and finished gracefully.</summary>
    public static BuildFailure Interrupted(string operation, TerraformSettings settings, Exception? inner = null) => new(
        $"Terraform {operation} was interrupted. Terraform got one interrupt, finished the operations in flight and released " +
        "the state lock, but the infrastructure may be partially changed: some resources may be applied and others not.",
        $"Check what is left to do with '{settings.Recheck}' (it plans against the current state), then apply again.",
        inner,
        ExitCodes.Interrupted);

    private static BuildFailure LockHeld(List<string> lines, TerraformSettings settings, Exception? inner)
    {
        var start = lines.FindIndex(l => l.TrimStart().StartsWith("Lock Info:", StringComparison.Ordinal));
        var info = start < 0 ? [] : lines.Skip(start).TakeWhile((l, i) => i == 0 || l.Trim().Length > 0).Select(l => l.Trim()).ToList();
        var id = info.Select(l => LockId().Match(l)).FirstOrDefault(m => m.Success)?.Groups["id"].Value;
        var waited = settings.LockTimeout is { } timeout && timeout > TimeSpan.Zero
            ? $"after waiting {Durations.Format(timeout)} (lock timeout)"
            : "at once (no lock timeout was set)";
        var problem = $"The Terraform state is locked by another run; Terraform gave up {waited}.";
        if (info.Count > 0)
            problem += System.Environment.NewLine + string.Join(System.Environment.NewLine, info.Select(l => "    " + l));
        var unlock = id is null ? "terraform force-unlock <ID>" : $"terraform force-unlock {id}";
        return new BuildFailure(problem,
            "Wait for the other run (see 'Who' and 'Created' above) to finish, or allow a longer lock timeout. " +
            $"Only if that run is gone for good and nobody is applying, release the lock: cd {settings.StackDirectory} && {unlock}",
            inner);
    }

    private static BuildFailure StalePlan(TerraformSettings settings, Exception? inner) => new(
        "Terraform refused the saved plan: \"Saved plan is stale\". The state changed after the plan was made " +
        "(another apply ran in between), so the plan no longer describes what applying it would do. Nothing was applied.",
        $"Run the apply again: it makes a new plan against the current state ('{settings.Recheck}' shows it first).",
        inner);

    /// <summary>Runs <paramref name="run"/> and rethrows a known Terraform error as an explained failure.</summary>
    internal static async Task<T> ExplainingAsync<T>(Func<Task<T>> run, TerraformSettings settings)
    {
        try
        {
            return await run();
        }
        catch (ProcessFailedException failed) when (Explain(failed.Result.Output.Select(o => o.Text), settings, failed) is { } explained)
        {
            throw explained;
        }
    }

    /// <summary>Without colour codes and without the diagnostic box (<c>╷ │ ╵</c>) Terraform draws when colours are on.</summary>
    private static string Plain(string line)
    {
        var text = AnsiEscape().Replace(line, string.Empty).TrimEnd();
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('│'))
            return trimmed[1..].StartsWith(' ') ? trimmed[2..] : trimmed[1..];
        return trimmed is "╷" or "╵" ? string.Empty : text;
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();

    [GeneratedRegex(@"^\s*ID:\s+(?<id>\S+)")]
    private static partial Regex LockId();
}
