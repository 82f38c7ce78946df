using Tesslate.Build.Engine;
using Tesslate.Build.Git;
using Tesslate.Build.GitHub;
using Tesslate.Build.Images;

namespace Tesslate.Build;

internal sealed partial class Build
{
    private DeploymentRecorder? _deployment;
    private bool _released;

    private string EnvironmentUrl => $"https://{Settings.Domain}";

    /// <summary>A GitHub Deployment for this release (laptop or CI), in_progress now, success or failure at the end.</summary>
    private async Task StartDeploymentRecordAsync(CancellationToken cancellationToken)
    {
        if (!IsPlanned(nameof(Deploy)) || IsDryRun || _deployment is not null)
            return;
        var commit = await new GitRepository(Runner, RootDirectory).HeadCommitAsync(cancellationToken);
        // The run's environment, not the process's: an in-process run (tests) inside Actions is not that Actions job.
        _deployment = await DeploymentRecords.CreateAsync(GitHubToken, Settings.Id, commit, Settings.RequiresApproval, RootDirectory, Runner, Log, cancellationToken,
            name => EnvironmentVariables.GetValueOrDefault(name));
        await _deployment.StartAsync(cancellationToken);
        Cleanup.Register("finish the GitHub deployment record", async () =>
        {
            if (_released)
                return;
            var failed = ExecutionPlan!.Targets.FirstOrDefault(t => t.Status is TargetStatus.Failed or TargetStatus.Aborted or TargetStatus.AwaitingApproval);
            await _deployment.FailedAsync(failed?.Name ?? "Deploy", failed?.Note is { } note ? [note] : null, CancellationToken.None);
        });
    }

    /// <summary>After every rollout succeeded: move the environment tags to what now runs, then record the release.</summary>
    private async Task PromoteAndRecordAsync(CancellationToken cancellationToken)
    {
        var report = CurrentBuildReport();
        if (report is not null && report.Images.Length > 0)
        {
            var promoted = await new ImagePromoter(RegistryClient, Log).PromoteAsync(report, Catalog, Settings.ImageTag!, cancellationToken);
            foreach (var image in promoted.Images)
                Note($"{image.Name}: :{Settings.ImageTag} → {image.Digest}");
        }
        else
        {
            Note("no images in this run: no tag moved");
        }
        _released = true;
        if (_deployment is not null)
            await _deployment.SucceededAsync(EnvironmentUrl, ExecutionPlan!.Targets.Select(t => $"{t.Name}: {t.Status}"), cancellationToken);
    }
}
