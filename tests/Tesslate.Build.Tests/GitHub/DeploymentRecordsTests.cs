using Serilog;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.GitHub;
using Xunit;

namespace Tesslate.Build.Tests.GitHub;

public sealed class DeploymentRecordsTests
{
    private static readonly ILogger Logger = new LoggerConfiguration().CreateLogger();

    [Fact]
    public async Task The_run_and_token_come_from_the_variables_given_not_the_process()
    {
        var directory = Directory.CreateTempSubdirectory("tesslate-records-").FullName;
        try
        {
            var variables = new Dictionary<string, string>
            {
                ["GITHUB_ACTIONS"] = "true",
                ["GITHUB_REPOSITORY"] = "TesslateAI/given",
                ["GITHUB_SHA"] = new string('a', 40),
                ["GITHUB_RUN_ID"] = "7",
                ["GITHUB_TOKEN"] = "given-token-" + Guid.NewGuid().ToString("N"),
            };
            var recorder = await DeploymentRecords.CreateAsync(null, "local", new string('b', 40), null, false, directory, new ProcessRunner(Logger), Logger,
                TestContext.Current.CancellationToken, name => variables.GetValueOrDefault(name));
            Assert.True(recorder.IsActive);

            // Nothing given: no Actions run, no token from GITHUB_TOKEN, and a directory without an origin remote: it skips.
            var skipped = await DeploymentRecords.CreateAsync(null, "local", new string('b', 40), null, false, directory, new ProcessRunner(Logger), Logger,
                TestContext.Current.CancellationToken, _ => null);
            Assert.False(skipped.IsActive);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
