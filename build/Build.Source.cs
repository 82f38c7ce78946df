using System.Text.Json;
using Tesslate.Build.Engine;
using Tesslate.Build.Git;
using Tesslate.Build.Images;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

internal sealed partial class Build
{
    protected override IReadOnlyCollection<string> PathParameters => [nameof(SourceRoot), nameof(BuildReport), nameof(Tfvars)];

    private async Task InitSubmodulesAsync(CancellationToken cancellationToken)
    {
        var sourceRoot = ResolveSourceRoot();
        var git = new GitRepository(Runner, sourceRoot, Tools.Git);
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

    /// <summary>The source root this run uses and how it was set; null when none is set and the environment has no fallback.</summary>
    private (string Path, string Origin)? SourceRootInEffect()
    {
        if (SourceRoot is not null)
            return (Path.GetFullPath(SourceRoot), SourceRootOrigin());
        if (Environment == DeployEnvironment.Local)
            return (Path.Combine(RootDirectory, "tests", "fixtures", "app"), "local's fallback, the fixture application");
        return null;
    }

    /// <summary>Which of the three ways set SourceRoot (the binder records the source of every value).</summary>
    private string SourceRootOrigin()
    {
        var parameter = Parameters.Single(p => p.MemberName == nameof(SourceRoot));
        return ParameterSources.GetValueOrDefault(nameof(SourceRoot)) switch
        {
            ParameterSource.CommandLine => parameter.Flag,
            ParameterSource.EnvironmentVariable => parameter.EnvironmentVariable,
            ParameterSource.ParametersFile => $"\"{nameof(SourceRoot)}\" in .nuke/parameters.json",
            ParameterSource.ProfileFile => $"\"{nameof(SourceRoot)}\" in .nuke/{ProfileFileSetting(nameof(SourceRoot))}",
            _ => "its default",
        };
    }

    /// <summary>The profile file a value came from: the last profile whose file names it wins, as in the binder.</summary>
    private string ProfileFileSetting(string member)
    {
        foreach (var file in Profile.Reverse().Select(p => $"parameters.{p}.json"))
        {
            var path = Path.Combine(NukeDirectory, file);
            if (!File.Exists(path))
                continue;
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(member, out _))
                return file;
        }
        return "a profile's parameters file";
    }

    /// <summary>The application commit this run builds and deploys, decided once (see <see cref="ApplicationCommits.Decide"/>).</summary>
    private Task<ApplicationCommit?> ApplicationCommitAsync(CancellationToken cancellationToken)
        => _run.ApplicationCommit.GetAsync(() => DecideApplicationCommitAsync(cancellationToken));

    private async Task<ApplicationCommit?> DecideApplicationCommitAsync(CancellationToken cancellationToken)
    {
        var root = SourceRootInEffect()?.Path;
        var buildsFromSource = IsPlanned(nameof(BuildImages));
        string? head = null, resolved = null;
        if (root is not null && (ApplicationRef is not null || buildsFromSource) && Directory.Exists(root))
        {
            var git = new GitRepository(Runner, root, Tools.Git);
            if (await git.IsRepositoryAsync(cancellationToken))
            {
                head = await git.HeadCommitAsync(cancellationToken);
                if (ApplicationRef is not null)
                    resolved = await git.ResolveCommitAsync(ApplicationRef, cancellationToken);
            }
        }
        return ApplicationCommits.Decide(new ApplicationSourceFacts
        {
            RequestedRef = ApplicationRef,
            SourceRoot = root,
            SourceHead = head,
            ResolvedInSource = resolved,
            BuildsFromSource = buildsFromSource,
            ReportRevision = BuildReport is null ? null : CurrentBuildReport()?.Revision,
            ReportPath = BuildReport,
        });
    }

    /// <summary>
    /// A run that builds images needs a source root: without one it stops before any target starts (no lock taken, no
    /// failed release recorded), with the three ways to set one. A dry run plans without (tags computed at run time).
    /// </summary>
    protected override void OnRunStarting()
    {
        if (IsPlanned(nameof(BuildImages)) && !IsDryRun)
            ResolveSourceRoot();
    }

    /// <summary>
    /// In Preflight, which --skip never removes: a build has a source root, the requested application ref resolves, and
    /// the run's summary, report and log name the application commit next to this repository's.
    /// </summary>
    private async Task CheckApplicationSourceAsync(CancellationToken cancellationToken)
    {
        if (ApplicationRef is null && !IsPlanned(nameof(BuildImages)) && !IsPlanned(nameof(Deploy)))
            return;
        var application = await ApplicationCommitAsync(cancellationToken);
        if (application is null)
        {
            Note("application commit: not known (no source root, no --application-ref, no --build-report)");
            return;
        }
        var repository = (await StampAsync(cancellationToken)).GitSha;
        Note($"application commit {application.Sha} ({application.ChosenBy})");
        Report.SetSection("application", new { commit = application.Sha, chosenBy = application.ChosenBy, repositoryCommit = repository });
        Report.AddMarkdown($"Application commit {application.Short}", string.Join('\n',
            "| | Commit |",
            "|---|---|",
            $"| Application ({application.ChosenBy.Replace("|", "\\|", StringComparison.Ordinal)}) | `{application.Sha}` |",
            $"| This repository (manifests, Terraform, pipeline) | `{repository ?? "not a git checkout"}` |"));
    }
}
