using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace Tesslate.Build.Tests.Terraform;

/// <summary>
/// FakeTerraform answers like the real binary where the flags matter: JSON only with <c>-json</c>, human text
/// without it, so a caller that forgets the flag breaks here as it would against real terraform.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FakeTerraformTests : IDisposable
{
    private readonly FakeTerraform _fake = new();
    private readonly string _stack = Directory.CreateTempSubdirectory("fake-tf-stack-").FullName;

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(_fake.ExecutablePath) { WorkingDirectory = _stack, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static bool IsJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private async Task InitAsync()
    {
        File.WriteAllText(Path.Combine(_stack, "backend.hcl"), "bucket = \"b\"\nkey = \"k\"\nregion = \"us-east-1\"\n");
        Assert.Equal(0, (await RunAsync("init", "-backend-config=backend.hcl")).ExitCode);
    }

    [Fact]
    public async Task Show_prints_the_plan_as_json_only_with_json_and_as_terraforms_text_without_it()
    {
        var plan = Path.Combine(_stack, "tfplan");
        File.WriteAllText(plan, "binary plan");

        var json = await RunAsync("show", "-json", plan);
        var text = await RunAsync("show", plan);

        Assert.True(IsJson(json.Stdout), json.Stdout);
        Assert.False(IsJson(text.Stdout), text.Stdout);
        Assert.Contains("Terraform will perform the following actions:", text.Stdout);
        Assert.Contains("  # module.eks.aws_eks_node_group.primary must be replaced", text.Stdout);
        Assert.Contains("Plan: 3 to add, 1 to change, 3 to destroy.", text.Stdout);
        Assert.DoesNotContain(PlanFixtures.DatabasePassword, text.Stdout);
    }

    [Fact]
    public async Task Output_prints_json_only_with_json_and_name_value_lines_hiding_sensitive_values_without_it()
    {
        await InitAsync();
        _fake.OutputsJson = """{"cluster_name":{"sensitive":false,"type":"string","value":"tesslate-beta-eks"},"db_password":{"sensitive":true,"type":"string","value":"s3cret-value"}}""";

        var json = await RunAsync("output", "-json");
        var text = await RunAsync("output");

        Assert.True(IsJson(json.Stdout), json.Stdout);
        Assert.Equal("cluster_name = \"tesslate-beta-eks\"\ndb_password = <sensitive>\n", text.Stdout);
    }

    [Fact]
    public async Task Output_without_outputs_prints_json_braces_or_terraforms_warning()
    {
        await InitAsync();

        Assert.Equal("{}", (await RunAsync("output", "-json")).Stdout.Trim());
        var text = await RunAsync("output");
        Assert.Equal(0, text.ExitCode);
        Assert.Equal("", text.Stdout);
        Assert.Contains("Warning: No outputs found", text.Stderr);
    }

    [Fact]
    public async Task Version_prints_json_only_with_json()
    {
        Assert.True(IsJson((await RunAsync("version", "-json")).Stdout));
        Assert.Equal("Terraform v1.11.4\non linux_amd64\n", (await RunAsync("version")).Stdout);
        _fake.VersionJson = PlanFixtures.Version19;
        Assert.StartsWith("Terraform v1.9", (await RunAsync("version")).Stdout, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _fake.Dispose();
        Directory.Delete(_stack, recursive: true);
    }
}
