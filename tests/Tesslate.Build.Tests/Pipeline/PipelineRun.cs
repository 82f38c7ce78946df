using System.Collections;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>Runs the real pipeline (the Build class) in-process with explicit arguments and environment.</summary>
internal static class PipelineRun
{
    public static string RepositoryRoot { get; } = FindRoot();

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
        var exitCode = await new Build().RunAsync([.. args, "--root", root ?? RepositoryRoot], environment, output, TestContextToken(), terminal: terminal);
        return (exitCode, output.ToString());
    }

    private static CancellationToken TestContextToken() => Xunit.TestContext.Current.CancellationToken;

    private static string FindRoot()
    {
        var recorded = typeof(PipelineRun).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        if (recorded is not null && File.Exists(Path.Combine(recorded, "Tesslate.Build.sln")))
            return recorded;
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tesslate.Build.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException("Tesslate.Build.sln not found above the test assembly.");
    }
}
