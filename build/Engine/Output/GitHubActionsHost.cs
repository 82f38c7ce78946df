namespace Tesslate.Build.Engine;

/// <summary>Workflow commands and files of a GitHub Actions runner (present only when GITHUB_ACTIONS=true).</summary>
public sealed class GitHubActionsHost(TextWriter output, IReadOnlyDictionary<string, string> environment)
{
    private readonly Lock _gate = new();

    /// <param name="output">Where workflow commands go: the runner reads them from stdout.</param>
    public static GitHubActionsHost? Detect(IReadOnlyDictionary<string, string> environment, TextWriter output) =>
        environment.GetValueOrDefault("GITHUB_ACTIONS") == "true" ? new GitHubActionsHost(output, environment) : null;

    public string? StepSummaryFile => environment.GetValueOrDefault("GITHUB_STEP_SUMMARY");

    /// <summary>The URL of this workflow run, for lock holders and deployment records.</summary>
    public string? RunUrl =>
        environment.GetValueOrDefault("GITHUB_SERVER_URL") is { } server && environment.GetValueOrDefault("GITHUB_REPOSITORY") is { } repository && environment.GetValueOrDefault("GITHUB_RUN_ID") is { } run
            ? $"{server}/{repository}/actions/runs/{run}"
            : null;

    public void Mask(string secret)
    {
        // A multi-line secret needs one mask per line.
        foreach (var line in secret.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            Write($"::add-mask::{line}");
    }

    public void Annotate(string kind, string? title, string message) =>
        Write($"::{kind}{(title is null ? "" : $" title={Escape(title)}")}::{Escape(message)}");

    public void Group(string title, Action body)
    {
        lock (_gate)
        {
            output.WriteLine($"::group::{title}");
            body();
            output.WriteLine("::endgroup::");
            output.Flush();
        }
    }

    public void AppendStepSummary(string markdown)
    {
        if (StepSummaryFile is { Length: > 0 } path)
            File.AppendAllText(path, Secrets.Redact(markdown));
    }

    private void Write(string line)
    {
        lock (_gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private static string Escape(string text) => text.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);
}
