using System.Text.RegularExpressions;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;

namespace Tesslate.Build.GitHub;

public sealed record WorkflowParseProblem(string File, int Line, int Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>
/// GitHub's own workflow parser (<c>@actions/workflow-parser</c>, run offline by a small Node script): schema errors,
/// bad expressions, unknown needs and cycles, with line and column. The package lives in <paramref name="toolDirectory"/>
/// with its lock file; <c>npm ci --prefix &lt;dir&gt;</c> installs it.
/// </summary>
public sealed partial class ActionsWorkflowParser(IProcessRunner runner, string toolDirectory)
{
    [GeneratedRegex("^(?<file>.+):(?<line>\\d+):(?<column>\\d+): (?<message>.*)$")]
    private static partial Regex ProblemLine();

    public string ToolDirectory { get; } = Path.GetFullPath(toolDirectory);

    /// <summary>The problems GitHub's parser finds in the files; empty when all are valid.</summary>
    public async Task<IReadOnlyList<WorkflowParseProblem>> ParseAsync(IEnumerable<string> files, CancellationToken cancellationToken)
    {
        var paths = files.Select(Path.GetFullPath).ToList();
        if (paths.Count == 0)
            return [];
        if (!Directory.Exists(Path.Combine(ToolDirectory, "node_modules", "@actions", "workflow-parser")))
            throw new PrerequisiteMissingException(
                $"GitHub's workflow parser is not installed in {ToolDirectory} (node_modules/@actions/workflow-parser is missing).",
                $"Run 'npm ci --prefix {Path.GetRelativePath(Directory.GetCurrentDirectory(), ToolDirectory).Replace('\\', '/')}' (needs Node 20 or later).");

        var command = new ToolCommand("node", ["--import", Path.Combine(ToolDirectory, "register.mjs"), Path.Combine(ToolDirectory, "validate.mjs"), .. paths])
        {
            WorkingDirectory = ToolDirectory,
            AllowedExitCodes = [0, 1],
            CaptureOutput = true,
            Quiet = true,
            IsReadOnly = true,
            LogPrefix = "workflow-parser",
            Timeout = TimeSpan.FromMinutes(2),
        };
        var result = await runner.RunAsync(command, cancellationToken);
        var problems = new List<WorkflowParseProblem>();
        foreach (var line in result.Output.Where(l => !l.IsError).Select(l => l.Text))
        {
            if (ProblemLine().Match(line) is { Success: true } match)
                problems.Add(new WorkflowParseProblem(match.Groups["file"].Value, int.Parse(match.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(match.Groups["column"].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups["message"].Value));
        }
        if (result.ExitCode != 0 && problems.Count == 0)
            throw new BuildFailure($"GitHub's workflow parser failed without naming a problem:{System.Environment.NewLine}{string.Join(System.Environment.NewLine, result.LastLines(20))}",
                $"Reinstall it with 'npm ci --prefix {ToolDirectory}' and check that 'node --version' is 20 or later.");
        return problems;
    }

    /// <summary>Fails listing every problem with its file, line and column; returns when GitHub would accept every file.</summary>
    public async Task ValidateAsync(IEnumerable<string> files, CancellationToken cancellationToken)
    {
        var problems = await ParseAsync(files, cancellationToken);
        if (problems.Count > 0)
            throw new BuildFailure(
                $"GitHub's workflow parser rejects {problems.Select(p => p.File).Distinct().Count()} file(s):{System.Environment.NewLine}"
                    + string.Join(System.Environment.NewLine, problems.Select(p => "  " + p)),
                "Fix the workflow declarations at the places named, then regenerate.");
    }
}
