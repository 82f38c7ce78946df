using System.Text.RegularExpressions;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Tools;

namespace Tesslate.Build.Git;

public sealed record Submodule(string Name, string Path, string Url);

/// <summary>
/// The few git operations the pipeline needs, through the process runner (argument lists only). Every git command
/// the pipeline starts is built here, with <paramref name="git"/> (GIT_EXE through the run's environment, or git on PATH).
/// </summary>
public sealed class GitRepository(IProcessRunner runner, string directory, string git = "git")
{
    public string Directory { get; } = directory;

    private ToolCommand Git(params string[] arguments) =>
        new ToolCommand(git, ["-C", Directory, .. arguments]).Prefixed("git");

    /// <summary><c>git --version</c>, for a prerequisite probe (no repository needed).</summary>
    public static ToolCommand VersionCommand(string git = "git") => new ToolCommand(git, ["--version"]).Prefixed("git");

    public async Task<bool> IsRepositoryAsync(CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(Git("rev-parse", "--is-inside-work-tree").AsProbe().WithAllowedExitCodes(0, 128), cancellationToken);
        return result.ExitCode == 0 && result.StandardOutput.Trim() == "true";
    }

    public async Task<string> HeadCommitAsync(CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(Git("rev-parse", "HEAD").AsProbe(), cancellationToken);
        return result.StandardOutput.Trim();
    }

    /// <summary>Whether the work tree under the repository folder has changes (tracked or untracked), per <c>git status --porcelain -- .</c>.</summary>
    public async Task<bool> HasChangesAsync(CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(Git("status", "--porcelain", "--", ".").AsProbe(), cancellationToken);
        return result.StandardOutput.Trim().Length > 0;
    }

    /// <summary>The URL of a remote, or null when there is none (or the folder is not a repository).</summary>
    public async Task<string?> RemoteUrlAsync(string remote, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(Git("remote", "get-url", remote).AsProbe().WithAllowedExitCodes(0, 1, 2, 128), cancellationToken);
        return result.ExitCode == 0 ? result.StandardOutput.Trim() : null;
    }

    /// <summary>
    /// The full SHA of the commit <paramref name="reference"/> (a branch, tag, SHA or any revision git accepts) names,
    /// tags peeled; null when it names no commit in this repository.
    /// </summary>
    public async Task<string?> ResolveCommitAsync(string reference, CancellationToken cancellationToken)
    {
        var result = await runner.RunAsync(
            Git("rev-parse", "--verify", "--quiet", "--end-of-options", reference + "^{commit}").AsProbe().WithAllowedExitCodes(0, 1, 128),
            cancellationToken);
        return result.ExitCode == 0 ? result.StandardOutput.Trim() : null;
    }

    /// <summary>The submodules declared in .gitmodules (not the nested ones: update --recursive handles those).</summary>
    public async Task<IReadOnlyList<Submodule>> SubmodulesAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(Directory, ".gitmodules")))
            return [];
        var result = await runner.RunAsync(
            Git("config", "--file", ".gitmodules", "--get-regexp", @"^submodule\..*\.(path|url)$").AsProbe().WithAllowedExitCodes(0, 1),
            cancellationToken);
        return ParseSubmoduleConfig(result.StandardOutput);
    }

    /// <summary>Parses <c>git config --get-regexp</c> lines like <c>submodule.agent.path packages/agent</c>.</summary>
    public static IReadOnlyList<Submodule> ParseSubmoduleConfig(string output)
    {
        var paths = new Dictionary<string, string>();
        var urls = new Dictionary<string, string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0)
                continue;
            var key = line[..space];
            var value = line[(space + 1)..];
            var name = key["submodule.".Length..key.LastIndexOf('.')];
            (key.EndsWith(".path", StringComparison.Ordinal) ? paths : urls)[name] = value;
        }
        return [.. paths.Select(p => new Submodule(p.Key, p.Value, urls.GetValueOrDefault(p.Key, "(no url)")))];
    }

    public Task SyncSubmodulesAsync(CancellationToken cancellationToken) =>
        runner.RunAsync(Git("submodule", "sync", "--recursive"), cancellationToken);

    /// <summary>Initialises and updates one submodule (recursively), so a failure can name it (or the nested one that failed) and its URL.</summary>
    public async Task UpdateSubmoduleAsync(Submodule submodule, CancellationToken cancellationToken, params string[] gitOptions)
    {
        var command = new ToolCommand(git, ["-C", Directory, .. gitOptions, "submodule", "update", "--init", "--recursive", "--", submodule.Path]).Prefixed("git");
        try
        {
            await runner.RunAsync(command, cancellationToken);
        }
        catch (ProcessFailedException failed)
        {
            var output = $"{System.Environment.NewLine}    {string.Join(System.Environment.NewLine + "    ", failed.Result.LastLines(8))}";
            var failing = FailingClone(failed.Result.Output.Select(l => l.Text), Directory);
            if (failing is { } nested && nested.Path != submodule.Path)
            {
                throw new BuildFailure(
                    $"Nested submodule '{nested.Path}' (inside {submodule.Path}) could not be initialised from {nested.Url}:{output}",
                    $"Check network access and credentials for {nested.Url} (e.g. `git ls-remote {nested.Url}`); its URL comes from the .gitmodules of the submodule that contains it, so a wrong one is fixed there, then run again.");
            }
            throw new BuildFailure(
                $"Submodule '{submodule.Name}' ({submodule.Path}) could not be initialised from {failing?.Url ?? submodule.Url}:{output}",
                $"Check network access and credentials for {submodule.Url} (e.g. `git ls-remote {submodule.Url}`), or point it at a reachable mirror with `git -C {Directory} config submodule.{submodule.Name}.url <url>`, then run again.");
        }
    }

    private static readonly Regex CloneFailed = new(@"clone of '(?<url>[^']+)' into submodule path '(?<path>[^']+)' failed", RegexOptions.CultureInvariant);

    /// <summary>
    /// The submodule git names in <c>fatal: clone of '&lt;url&gt;' into submodule path '&lt;path&gt;' failed</c> (the first
    /// is the innermost), with its path relative to <paramref name="workTree"/>.
    /// </summary>
    public static (string Path, string Url)? FailingClone(IEnumerable<string> gitOutput, string workTree)
    {
        var match = gitOutput.Select(line => CloneFailed.Match(line)).FirstOrDefault(m => m.Success);
        if (match is null)
            return null;
        var path = match.Groups["path"].Value;
        if (System.IO.Path.IsPathRooted(path))
            path = System.IO.Path.GetRelativePath(workTree, path).Replace('\\', '/');
        return (path, match.Groups["url"].Value);
    }
}
