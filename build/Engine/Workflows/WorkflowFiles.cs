using Serilog;

namespace Tesslate.Build.Engine.Workflows;

/// <summary>A rendered workflow: its file name under the workflows directory and its exact text.</summary>
public sealed record GeneratedWorkflowFile(string FileName, string Content);

public enum DriftStatus
{
    /// <summary>Declared but not on disk.</summary>
    Missing,

    /// <summary>On disk with other content than the declaration gives.</summary>
    Different,

    /// <summary>On disk with the generated-file header, but no declaration produces it any more.</summary>
    Orphaned,
}

public sealed record WorkflowDrift(string FileName, DriftStatus Status, string Diff);

/// <summary>
/// Renders, writes and checks generated workflow files. Every declaration is validated before the first byte is
/// written, so a bad declaration leaves the directory as it was. Checking never writes and never prompts.
/// </summary>
public sealed class WorkflowFiles(GeneratedFileHeader header, bool requirePinnedActions = true)
{
    public IReadOnlyList<GeneratedWorkflowFile> Render(IEnumerable<Workflow> workflows)
    {
        var list = workflows.ToList();
        WorkflowValidator.Validate(list, requirePinnedActions);
        return [.. list.Select(w => new GeneratedWorkflowFile(w.FileName, WorkflowYamlWriter.Write(w, header)))];
    }

    /// <summary>Writes the files that changed; returns the paths written.</summary>
    public async Task<IReadOnlyList<string>> WriteAsync(string directory, IEnumerable<Workflow> workflows, CancellationToken cancellationToken)
    {
        var files = Render(workflows);
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var file in files)
        {
            var path = Path.Combine(directory, file.FileName);
            if (File.Exists(path) && Normalize(await File.ReadAllTextAsync(path, cancellationToken)) == file.Content)
                continue;
            await File.WriteAllTextAsync(path, file.Content, cancellationToken);
            written.Add(path);
        }
        return written;
    }

    /// <summary>Compares what the declarations give with what is on disk; empty when they agree.</summary>
    public async Task<IReadOnlyList<WorkflowDrift>> CheckAsync(string directory, IEnumerable<Workflow> workflows, CancellationToken cancellationToken)
    {
        var files = Render(workflows);
        var drift = new List<WorkflowDrift>();
        foreach (var file in files)
        {
            var path = Path.Combine(directory, file.FileName);
            var label = Path.Combine(directory, file.FileName).Replace('\\', '/');
            if (!File.Exists(path))
            {
                drift.Add(new WorkflowDrift(file.FileName, DriftStatus.Missing, UnifiedDiff.Between("", file.Content, "/dev/null", $"{label} (generated)")));
                continue;
            }
            // A Windows checkout with autocrlf is not drift.
            var onDisk = Normalize(await File.ReadAllTextAsync(path, cancellationToken));
            if (onDisk != file.Content)
                drift.Add(new WorkflowDrift(file.FileName, DriftStatus.Different, UnifiedDiff.Between(onDisk, file.Content, $"{label} (on disk)", $"{label} (generated)")));
        }

        if (Directory.Exists(directory))
        {
            var declared = files.Select(f => f.FileName).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var path in Directory.EnumerateFiles(directory).Where(p => p.EndsWith(".yml", StringComparison.Ordinal) || p.EndsWith(".yaml", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(path);
                if (declared.Contains(name))
                    continue;
                var content = await File.ReadAllTextAsync(path, cancellationToken);
                if (content.Contains(GeneratedFileHeader.Marker, StringComparison.Ordinal))
                    drift.Add(new WorkflowDrift(name, DriftStatus.Orphaned, string.Empty));
            }
        }
        return drift;
    }

    /// <summary>
    /// The <c>--check</c> mode: logs each drifted file with its diff and fails naming them; returns quietly when the
    /// files on disk are what the declarations give.
    /// </summary>
    public async Task EnsureUpToDateAsync(string directory, IEnumerable<Workflow> workflows, string regenerateCommand, ILogger logger, CancellationToken cancellationToken)
    {
        var drift = await CheckAsync(directory, workflows, cancellationToken);
        if (drift.Count == 0)
        {
            logger.Information("Generated workflows in {Directory} are up to date.", directory);
            return;
        }
        foreach (var item in drift)
        {
            logger.Error("{File}: {Status}", item.FileName, Describe(item.Status));
            if (item.Diff.Length > 0)
                logger.Information("{Diff:l}", item.Diff.TrimEnd('\n'));
        }
        throw new BuildFailure(
            $"{drift.Count} generated workflow file{(drift.Count == 1 ? "" : "s")} in {directory} differ from the declarations: "
                + string.Join(", ", drift.Select(d => $"{d.FileName} ({Describe(d.Status)})")) + ".",
            $"Run '{regenerateCommand}' and commit the result{(drift.Any(d => d.Status == DriftStatus.Orphaned) ? "; delete files no declaration produces" : "")}.");
    }

    public static string Describe(DriftStatus status) => status switch
    {
        DriftStatus.Missing => "missing",
        DriftStatus.Different => "different",
        DriftStatus.Orphaned => "generated but no longer declared",
        _ => status.ToString(),
    };

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);
}
