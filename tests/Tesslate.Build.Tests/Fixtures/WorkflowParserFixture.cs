using Tesslate.Build.Engine.Processes;
using Tesslate.Build.GitHub;
using Tesslate.Build.Tests.Fixtures;

namespace Tesslate.Build.Tests.GitHub;

/// <summary>
/// GitHub's workflow parser from <c>tests/tools/workflow-parser</c>, installed once per test run with <c>npm ci</c>
/// when <c>.ci/run</c> has not already done it.
/// </summary>
public sealed class WorkflowParserFixture : Xunit.IAsyncLifetime
{
    public static string ToolDirectory => Path.Combine(RepositoryPaths.Root, "tests", "tools", "workflow-parser");

    public IProcessRunner Runner { get; } = new ProcessRunner(new Serilog.LoggerConfiguration().CreateLogger());

    public ActionsWorkflowParser Parser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        if (!Directory.Exists(Path.Combine(ToolDirectory, "node_modules", "@actions", "workflow-parser")))
        {
            await Runner.RunAsync(new ToolCommand("npm", ["ci", "--no-audit", "--no-fund", "--prefix", ToolDirectory])
            {
                Timeout = TimeSpan.FromMinutes(5),
                Quiet = true,
            }, CancellationToken.None);
        }
        Parser = new ActionsWorkflowParser(Runner, ToolDirectory);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
