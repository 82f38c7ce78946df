using Tesslate.Build.Engine;
using Tesslate.Build.Git;

namespace Tesslate.Build;

internal sealed partial class Build
{
    protected override IReadOnlyCollection<string> PathParameters => [nameof(SourceRoot), nameof(BuildReport), nameof(Tfvars)];

    private async Task InitSubmodulesAsync(CancellationToken cancellationToken)
    {
        var sourceRoot = ResolveSourceRoot();
        var git = new GitRepository(Runner, sourceRoot);
        if (!await git.IsRepositoryAsync(cancellationToken))
            throw new BuildFailure($"{sourceRoot} has a .gitmodules file but is not a git work tree.", "Clone the application repository with git (submodules need it), or point --source-root at such a clone.");

        var submodules = await git.SubmodulesAsync(cancellationToken);
        await git.SyncSubmodulesAsync(cancellationToken);
        foreach (var submodule in submodules)
        {
            Log.Information("Initialising submodule {Name} ({Path}) from {Url}", submodule.Name, submodule.Path, submodule.Url);
            await git.UpdateSubmoduleAsync(submodule, cancellationToken, GitOptions());
        }
        Note($"{submodules.Count} submodule(s) up to date: {string.Join(", ", submodules.Select(s => s.Path))}");
    }

    /// <summary>Whether SubmodulesInit has anything to do; a source root that cannot be resolved is the target's to report.</summary>
    private bool SourceHasGitmodules()
    {
        try
        {
            return File.Exists(Path.Combine(ResolveSourceRoot(), ".gitmodules"));
        }
        catch (BuildFailure)
        {
            return true;
        }
    }

    // Local file:// submodules (tests, mirrors on disk) are refused by git ≥ 2.38 unless allowed explicitly.
    private string[] GitOptions() =>
        EnvironmentVariables.GetValueOrDefault("TESSLATE_GIT_ALLOW_FILE_PROTOCOL") == "1" ? ["-c", "protocol.file.allow=always"] : [];
}
