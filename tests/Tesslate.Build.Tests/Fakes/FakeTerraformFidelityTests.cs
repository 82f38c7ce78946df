using System.Diagnostics;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Terraform;

/// <summary>
/// Where a real terraform is on PATH (this machine image ships 1.11), FakeTerraform's variable diagnostics are compared
/// with the real ones: a stack of variables only needs no provider, so the real binary can init and plan it offline.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FakeTerraformFidelityTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tf-fidelity").FullName;
    private readonly FakeTerraform _fake = new();

    public void Dispose()
    {
        _fake.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private const string Variables = """
        variable "environment" {
          type    = string
          default = "production"
        }

        variable "domain_name" {
          type = string
        }

        variable "cloudflare_api_token" {
          type      = string
          sensitive = true
        }
        """;

    [Theory]
    [InlineData(true, "letsencrypt_email = \"a@b\"\napp_extra_secrets = {}\n")]
    [InlineData(false, "letsencrypt_email = \"a@b\"\napp_extra_secrets = {}\n")]
    [InlineData(true, "a_one = 1\nb_two = 2\nc_three = 3\nd_four = 4\ndomain_name = \"x\"\n")]
    public async Task The_fake_reports_the_same_variable_problems_as_real_terraform(bool noColor, string tfvars)
    {
        var real = ToolLocator.Find("terraform");
        if (real is null)
            Assert.Skip("terraform is not on PATH on this machine (the fake's diagnostics are checked against captured output in TerraformDiagnosticsTests).");

        var realOutput = await PlanAsync(real, "real", tfvars, noColor);
        var fakeOutput = await PlanAsync(_fake.ExecutablePath, "fake", tfvars, noColor);

        var (realProblems, realMore) = TerraformDiagnostics.VariableProblems(TerraformDiagnostics.Parse(realOutput.Lines));
        var (fakeProblems, fakeMore) = TerraformDiagnostics.VariableProblems(TerraformDiagnostics.Parse(fakeOutput.Lines));
        Assert.Equal(realOutput.ExitCode, fakeOutput.ExitCode);
        // Terraform shows two undeclared values in map order and counts the rest: compare which kinds and how many.
        Assert.Equal(realProblems.Count(p => p.Kind == VariableProblemKind.Undeclared) + realMore, fakeProblems.Count(p => p.Kind == VariableProblemKind.Undeclared) + fakeMore);
        Assert.Equal(Describe(realProblems.Where(p => p.Kind != VariableProblemKind.Undeclared || realMore == 0)), Describe(fakeProblems.Where(p => p.Kind != VariableProblemKind.Undeclared || fakeMore == 0)));
        Assert.Equal(realOutput.Lines.Count(l => l.Contains('│')) > 0, fakeOutput.Lines.Count(l => l.Contains('│')) > 0);
    }

    private static IEnumerable<string> Describe(IEnumerable<VariableProblem> problems) =>
        problems.Select(p => $"{p.Kind} {p.Variable} {Path.GetFileName(p.Where ?? "")}").Order(StringComparer.Ordinal);

    private async Task<(int ExitCode, IReadOnlyList<string> Lines)> PlanAsync(string terraform, string name, string tfvars, bool noColor)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_directory, name)).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "variables.tf"), Variables, TestContext.Current.CancellationToken);
        var varFile = Path.Combine(folder, "t.tfvars");
        await File.WriteAllTextAsync(varFile, tfvars, TestContext.Current.CancellationToken);
        await RunAsync(terraform, folder, ["init", "-input=false", "-no-color"]);
        return await RunAsync(terraform, folder,
            ["plan", "-input=false", .. noColor ? ["-no-color"] : Array.Empty<string>(), "-var-file=" + varFile, "-var=aws_account_id=123456789012", "-detailed-exitcode", "-out=" + Path.Combine(folder, "plan")]);
    }

    private static async Task<(int ExitCode, IReadOnlyList<string> Lines)> RunAsync(string executable, string folder, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(executable) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment["TF_CLI_CONFIG_FILE"] = "/dev/null";
        start.Environment["CHECKPOINT_DISABLE"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return (process.ExitCode, [.. (await output).Split('\n'), .. (await error).Split('\n')]);
    }
}
