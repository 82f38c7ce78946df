using System.Collections.Immutable;
using Tesslate.Build.Engine.Workflows;

namespace Tesslate.Build.Engine.Tests.Workflows;

/// <summary>Declarations that exercise every part of the model, shared by the golden-file and validation tests.</summary>
internal static class SampleWorkflows
{
    public static readonly ActionReference Checkout = new("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1");
    public static readonly ActionReference Upload = new("actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0");

    public static readonly GeneratedFileHeader Header = new("./build.sh GenerateWorkflows", "build/Example.cs");

    public enum Stage
    {
        Beta,
        Production,
    }

    public static Workflow Release() => new("release.yml", "Release")
    {
        RunName = "Release to ${{ inputs.stage || 'beta' }}",
        On = new WorkflowTriggers
        {
            Push = new PushTrigger { Branches = ["main"], PathsIgnore = ["docs/**", "**.md"] },
            PullRequest = new PullRequestTrigger { Branches = ["main"], Types = ["opened", "synchronize"] },
            WorkflowDispatch = new WorkflowDispatchTrigger(
                WorkflowInput.Choice<Stage>("stage", "Where to release", Stage.Beta),
                WorkflowInput.String("images", "Images to build (comma-separated; empty means all)", ""),
                WorkflowInput.Boolean("force-build", "Rebuild even when the fingerprint is unchanged"),
                WorkflowInput.Number("retries", "How many times to retry", 3),
                WorkflowInput.Environment("target", "GitHub environment")),
            Schedules = ["0 3 * * 1"],
        },
        Permissions = Permissions.Empty.Read(PermissionScope.Contents),
        Concurrency = new Concurrency("release-${{ inputs.stage || 'beta' }}", CancelInProgress: false),
        Env = new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "true", ["LEVEL"] = "3" },
        DefaultShell = "bash",
        Jobs =
        [
            new Job("build")
            {
                Name = "Build ${{ matrix.image }}",
                Permissions = Permissions.Empty.Read(PermissionScope.Contents).Write(PermissionScope.IdToken),
                TimeoutMinutes = 30,
                Strategy = new JobStrategy
                {
                    Matrix = new Dictionary<string, IReadOnlyList<string>> { ["image"] = ["backend", "frontend"], ["arch"] = ["amd64"] },
                    FailFast = false,
                    MaxParallel = 2,
                },
                Outputs = new Dictionary<string, string> { ["digest"] = "${{ steps.build.outputs.digest }}" },
                Steps =
                [
                    Step.Action("Check out", Checkout, new Dictionary<string, string> { ["fetch-depth"] = "0", ["submodules"] = "true" }),
                    new Step
                    {
                        Name = "Build",
                        Id = "build",
                        Run = "set -euo pipefail\n./build.sh BuildImages --images \"$IMAGE\"\necho \"digest=sha256:0\" >> \"$GITHUB_OUTPUT\"\n",
                        Env = new Dictionary<string, string> { ["IMAGE"] = "${{ matrix.image }}" },
                        WorkingDirectory = ".",
                        TimeoutMinutes = 20,
                    },
                    Step.Action("Upload report", Upload, new Dictionary<string, string> { ["name"] = "report-${{ matrix.image }}", ["path"] = ".nuke/temp/report.json" }) with { If = "always()" },
                ],
            },
            new Job("deploy")
            {
                Name = "Deploy",
                Needs = ["build"],
                If = "github.ref == 'refs/heads/main'",
                RunsOn = ["self-hosted", "linux"],
                Environment = new JobEnvironment("${{ inputs.stage || 'beta' }}", "https://example.test"),
                Permissions = Permissions.Empty.Read(PermissionScope.Contents).Write(PermissionScope.Deployments, PermissionScope.IdToken),
                Concurrency = new Concurrency("deploy", CancelInProgress: true),
                TimeoutMinutes = 45,
                Steps =
                [
                    Step.Action("Check out", Checkout),
                    Step.Script("Deploy", "./build.sh Deploy --approve") with { ContinueOnError = true, Shell = "bash" },
                ],
            },
        ],
    };

    public static Workflow Minimal(params Job[] jobs) => new("minimal.yml", "Minimal")
    {
        On = new WorkflowTriggers { Push = new PushTrigger() },
        Jobs = jobs.Length > 0 ? [.. jobs] : [Job("only")],
    };

    public static Job Job(string id, params string[] needs) => new(id)
    {
        Needs = [.. needs],
        Steps = [Step.Script("Say", "echo hi")],
    };

    public static ImmutableArray<WorkflowInput> Inputs(int count) =>
        [.. Enumerable.Range(1, count).Select(i => WorkflowInput.String($"input{i}", $"Input {i}"))];
}
