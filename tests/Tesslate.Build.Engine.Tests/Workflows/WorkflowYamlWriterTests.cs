using Tesslate.Build.Engine.Workflows;
using Xunit;

namespace Tesslate.Build.Engine.Tests.Workflows;

public sealed class WorkflowYamlWriterTests
{
    private static string GoldenPath(string name) =>
        Path.Combine(AppContext.BaseDirectory, "Workflows", "Golden", name);

    [Fact]
    public void A_full_declaration_is_written_exactly_as_the_golden_file()
    {
        var yaml = WorkflowYamlWriter.Write(SampleWorkflows.Release(), SampleWorkflows.Header);
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") is "1")
            File.WriteAllText(Path.Combine(FindSourceDirectory(), "Golden", "release.yml"), yaml);
        Assert.Equal(File.ReadAllText(GoldenPath("release.yml")), yaml);
    }

    [Fact]
    public void The_same_declaration_always_gives_the_same_bytes()
    {
        var first = WorkflowYamlWriter.Write(SampleWorkflows.Release(), SampleWorkflows.Header);
        var second = WorkflowYamlWriter.Write(SampleWorkflows.Release(), SampleWorkflows.Header);
        Assert.Equal(first, second);
    }

    [Fact]
    public void The_header_names_the_file_as_generated_and_the_command_that_regenerates_it()
    {
        var lines = WorkflowYamlWriter.Write(SampleWorkflows.Minimal(), SampleWorkflows.Header).Split('\n');
        Assert.StartsWith("# This file is generated", lines[0]);
        Assert.Equal("# Regenerate with: ./build.sh GenerateWorkflows", lines[1]);
    }

    [Fact]
    public void Top_level_keys_come_in_the_order_people_write_them()
    {
        var yaml = WorkflowYamlWriter.Write(SampleWorkflows.Release(), SampleWorkflows.Header);
        var topLevel = yaml.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#') && !char.IsWhiteSpace(l[0])).Select(l => l.Split(':')[0]).ToList();
        Assert.Equal(["name", "run-name", "on", "permissions", "concurrency", "env", "defaults", "jobs"], topLevel);
    }

    [Fact]
    public void Typed_inputs_keep_their_types_in_yaml()
    {
        var yaml = WorkflowYamlWriter.Write(SampleWorkflows.Release(), SampleWorkflows.Header);
        Assert.Contains("      stage:\n        description: Where to release\n        type: choice\n        required: true\n        default: beta\n        options:\n          - beta\n          - production\n", yaml);
        Assert.Contains("      force-build:\n        description: Rebuild even when the fingerprint is unchanged\n        type: boolean\n        required: false\n        default: false\n", yaml);
        Assert.Contains("        type: number\n        required: false\n        default: 3\n", yaml);
        Assert.Contains("        default: ''\n", yaml);
    }

    [Fact]
    public void Pinned_actions_carry_their_tag_as_a_comment()
    {
        var yaml = WorkflowYamlWriter.Write(SampleWorkflows.Release(), SampleWorkflows.Header);
        Assert.Contains("uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n", yaml);
    }

    [Fact]
    public void Strings_that_would_read_as_booleans_or_numbers_are_quoted()
    {
        var yaml = WorkflowYamlWriter.Write(SampleWorkflows.Release(), SampleWorkflows.Header);
        Assert.Contains("DOTNET_NOLOGO: 'true'", yaml);
        Assert.Contains("fetch-depth: '0'", yaml);
        Assert.Contains("LEVEL: '3'", yaml);
    }

    [Fact]
    public void Empty_permissions_mean_no_access_and_are_written_as_an_empty_map()
    {
        var workflow = SampleWorkflows.Minimal() with { Permissions = Permissions.Empty };
        Assert.Contains("\npermissions: {}\n", WorkflowYamlWriter.Write(workflow, SampleWorkflows.Header));
    }

    [Fact]
    public void Multi_line_scripts_are_literal_blocks()
    {
        var yaml = WorkflowYamlWriter.Write(SampleWorkflows.Release(), SampleWorkflows.Header);
        Assert.Contains("run: |\n          set -euo pipefail\n", yaml);
    }

    [Fact]
    public void An_environment_without_a_deployment_says_deployment_false_as_a_yaml_boolean_and_the_default_says_nothing()
    {
        var job = SampleWorkflows.Minimal().Jobs[0];
        string Written(JobEnvironment environment) =>
            WorkflowYamlWriter.Write(SampleWorkflows.Minimal() with { Jobs = [job with { Environment = environment }] }, SampleWorkflows.Header);

        Assert.Contains("    environment:\n      name: beta\n      url: https://beta.example.test\n      deployment: false\n", Written(new JobEnvironment("beta", "https://beta.example.test", Deployment: false)));
        Assert.DoesNotContain("deployment:", Written(new JobEnvironment("beta")));
    }

    private static string FindSourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
