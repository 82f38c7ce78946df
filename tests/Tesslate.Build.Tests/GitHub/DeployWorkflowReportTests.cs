using System.Collections.Immutable;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.GitHub;
using Tesslate.Build.Platform;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Pipeline;
using Xunit;

namespace Tesslate.Build.Tests.GitHub;

/// <summary>What deploy.yml's deploy job does with the run's reports, checked against a real pipeline run on an Actions-like environment.</summary>
public sealed class DeployWorkflowReportTests : IDisposable
{
    private readonly string _root = RepositoryCopy.Create();
    private readonly string _summary = Path.GetTempFileName();

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        File.Delete(_summary);
    }

    [Fact]
    public async Task The_deploy_job_uploads_only_files_the_pipeline_writes_and_the_pipeline_writes_the_step_summary_itself()
    {
        // A child process: the Actions host writes workflow commands to the real stdout, which an in-process run does not have.
        var result = await new ProcessRunner(new LogCapture().Logger).RunAsync(new ToolCommand(DotnetHost,
            [Path.Combine(AppContext.BaseDirectory, "_build.dll"), "Deploy", "--environment", "beta", "--dry-run", "--root", _root])
        {
            Environment = ImmutableDictionary<string, string?>.Empty
                .Add("GITHUB_ACTIONS", "true")
                .Add("GITHUB_STEP_SUMMARY", _summary)
                .Add("PATH", "/nonexistent")
                .Add("AWS_EC2_METADATA_DISABLED", "true")
                .Add("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
                .Add("AWS_CONFIG_FILE", "/nonexistent"),
            AllowedExitCodes = [0, 1, 2],
            CaptureOutput = true,
            Quiet = true,
            Timeout = TimeSpan.FromMinutes(2),
        }, TestContext.Current.CancellationToken);
        Assert.True(result.ExitCode == 0, string.Join('\n', result.LastLines(40)));

        var summary = await File.ReadAllTextAsync(_summary, TestContext.Current.CancellationToken);
        Assert.StartsWith("### Build succeeded", summary, StringComparison.Ordinal);
        Assert.Contains("| Deploy |", summary);

        var deploy = PipelineWorkflows.Deploy(new WorkflowSettings(), BuildParameters.DeployInputs).Jobs.Single(j => j.Id == "deploy");
        var uploads = deploy.Steps.Where(s => s.Uses == PinnedActions.UploadArtifact.Uses).ToList();
        var paths = Assert.Single(uploads).With["path"].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(paths, path => Assert.True(Matches(path).Any(), $"{path} matches no file the run wrote under {_root}."));
        Assert.Contains(Path.Combine(_root, ".nuke", "temp", "run-report.json"), paths.SelectMany(Matches));
        // The summary reaches the job without a step of its own.
        Assert.DoesNotContain(deploy.Steps, s => s.Run?.Contains("GITHUB_STEP_SUMMARY", StringComparison.Ordinal) == true);
    }

    // The runtime this test runs on lives in <dotnet root>/shared/Microsoft.NETCore.App/<version>/.
    private static string DotnetHost => Path.Combine(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", "..")), "dotnet");

    // Upload paths are a folder and a file-name glob (actions/upload-artifact resolves them from the workspace).
    private IEnumerable<string> Matches(string path)
    {
        var directory = Path.Combine(_root, Path.GetDirectoryName(path)!);
        return Directory.Exists(directory) ? Directory.EnumerateFiles(directory, Path.GetFileName(path)) : [];
    }
}
