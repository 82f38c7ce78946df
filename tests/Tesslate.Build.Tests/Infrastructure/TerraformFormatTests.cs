using System.Diagnostics;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>
/// Where the real terraform binary exists (this machine image ships 1.11), the stacks are in its canonical format.
/// It cannot init offline (providers come from the registry), so fmt is the part of it that runs here.
/// </summary>
public sealed class TerraformFormatTests
{
    [Fact]
    public async Task The_stacks_are_in_terraform_fmt_canonical_form()
    {
        var terraform = ToolLocator.Find("terraform");
        if (terraform is null)
            Assert.Skip("terraform is not on PATH on this machine (hcl2json still parses every file).");
        var start = new ProcessStartInfo(terraform) { WorkingDirectory = RepositoryPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "fmt", "-check", "-recursive", "-list=true", "terraform" })
            start.ArgumentList.Add(argument);
        start.Environment["TF_CLI_CONFIG_FILE"] = "/dev/null";
        using var process = Process.Start(start)!;
        var files = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"not in canonical form (run terraform fmt -recursive terraform): {files}");
    }
}
