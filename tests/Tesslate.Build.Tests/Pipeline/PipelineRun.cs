using System.Collections;
using Tesslate.Build.Tests.Fixtures;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>Runs the real pipeline (the Build class) in-process with explicit arguments and environment.</summary>
internal static class PipelineRun
{
    /// <param name="terminal">Answers to prompts, as if typed on a terminal (null: no terminal).</param>
    public static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? extraEnvironment = null, string? root = null, TextReader? terminal = null)
    {
        var environment = System.Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Where(e => !((string)e.Key).StartsWith("TESSLATE_", StringComparison.Ordinal) && (string)e.Key is not ("GITHUB_ACTIONS" or "CI"))
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
        environment["AWS_EC2_METADATA_DISABLED"] = "true";
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>())
            environment[key] = value;
        var output = new StringWriter();
        var exitCode = await new Build().RunAsync([.. args, "--root", root ?? RepositoryPaths.Root], environment, output, TestContextToken(), terminal: terminal);
        return (exitCode, output.ToString());
    }

    private static CancellationToken TestContextToken() => Xunit.TestContext.Current.CancellationToken;
}
