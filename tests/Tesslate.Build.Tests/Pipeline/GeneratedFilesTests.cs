using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>Committed generated files must equal what the code generates (CI runs the same checks through ./build.sh).</summary>
public sealed class GeneratedFilesTests
{
    [Theory]
    [InlineData("GenerateSchema")]
    [InlineData("GenerateBackendFiles")]
    public async Task The_committed_file_matches_what_the_code_generates(string target)
    {
        var (exitCode, output) = await PipelineRun.RunAsync([target, "--check"]);
        Assert.True(exitCode == 0, output);
        Assert.Contains("up to date", output);
    }

    [Fact]
    public async Task A_stale_backend_file_fails_the_check_naming_it()
    {
        var root = Directory.CreateTempSubdirectory("stale").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, ".nuke"));
            Directory.CreateDirectory(Path.Combine(root, "terraform", "aws"));
            File.WriteAllText(Path.Combine(root, "terraform", "aws", "backend-beta.hcl"), "bucket = \"someone-elses\"\n");
            var (exitCode, output) = await PipelineRun.RunAsync(["GenerateBackendFiles", "--check"], root: root);
            Assert.Equal(1, exitCode);
            Assert.Contains("terraform/aws/backend-beta.hcl", output);

            (exitCode, output) = await PipelineRun.RunAsync(["GenerateBackendFiles"], root: root);
            Assert.True(exitCode == 0, output);
            Assert.Contains("key          = \"beta/terraform.tfstate\"", File.ReadAllText(Path.Combine(root, "terraform", "aws", "backend-beta.hcl")));
            Assert.Contains("use_lockfile = true", File.ReadAllText(Path.Combine(root, "terraform", "shared", "backend-shared.hcl")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_stale_schema_fails_the_check_and_GenerateSchema_rewrites_it()
    {
        var root = Directory.CreateTempSubdirectory("stale-schema").FullName;
        try
        {
            var schema = Path.Combine(root, ".nuke", "build.schema.json");
            Directory.CreateDirectory(Path.GetDirectoryName(schema)!);
            File.WriteAllText(schema, File.ReadAllText(Path.Combine(RepositoryPaths.Root, ".nuke", "build.schema.json")).Replace("\"SourceRoot\"", "\"SourceRootOld\"", StringComparison.Ordinal));

            var (exitCode, output) = await PipelineRun.RunAsync(["GenerateSchema", "--check"], root: root);
            Assert.Equal(1, exitCode);
            Assert.Contains($"{schema} is stale", output);

            (exitCode, output) = await PipelineRun.RunAsync(["GenerateSchema"], root: root);
            Assert.True(exitCode == 0, output);
            Assert.Equal(File.ReadAllText(Path.Combine(RepositoryPaths.Root, ".nuke", "build.schema.json")), File.ReadAllText(schema));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
