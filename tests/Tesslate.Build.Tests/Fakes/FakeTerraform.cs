using System.Text;

namespace Tesslate.Build.Tests.Terraform;

/// <summary>
/// A fake <c>terraform</c> (no terraform binary is obtainable here): a bash script in a temp folder of its own that
/// records arguments and working directory, writes <c>.terraform/terraform.tfstate</c> on init from the
/// -backend-config file, honours -detailed-exitcode, writes the -out plan file, answers show -json and version -json
/// from fixtures, and can be told to fail, to hold the state lock, to call a plan stale, or to wait for SIGINT during
/// apply (counting the interrupts it gets). Each test gets its own, so tests run in parallel without sharing PATH.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FakeTerraform : IDisposable
{
    public FakeTerraform()
    {
        Directory = Path.Combine(Path.GetTempPath(), "fake-terraform-" + Guid.NewGuid().ToString("N")[..10]);
        System.IO.Directory.CreateDirectory(Directory);
        ExecutablePath = Path.Combine(Directory, "terraform");
        ExecutableScript.Write(ExecutablePath, FakeTerraformScript.Text + "\n");
        ShowJson = PlanFixtures.WithDestroyAndReplace;
    }

    public string Directory { get; }

    public string ExecutablePath { get; }

    /// <summary>The plan <c>show -json</c> prints; plain <c>show</c> prints it as Terraform's human text.</summary>
    public string ShowJson
    {
        set
        {
            Write("show.json", value);
            Write("show.txt", FakeTerraformText.Plan(value));
        }
    }

    /// <summary>What <c>version -json</c> prints; plain <c>version</c> prints "Terraform vX" and the platform.</summary>
    public string VersionJson
    {
        set
        {
            Write("version.json", value);
            Write("version.txt", FakeTerraformText.Version(value));
        }
    }

    /// <summary>What <c>output -json</c> prints; plain <c>output</c> prints <c>name = value</c> lines, sensitive values hidden.</summary>
    public string OutputsJson
    {
        set
        {
            Write("outputs.json", value);
            Write("outputs.txt", FakeTerraformText.Outputs(value));
        }
    }

    /// <summary>0 no changes, 1 error, 2 changes (what -detailed-exitcode returns).</summary>
    public int PlanExitCode { set => Write("plan-exitcode", value.ToString()); }

    public void FailOn(string command, string message) => Write("fail-" + command.Replace(' ', '-'), message + "\n");

    public void HoldLock() => Write("lock-held", "");

    public void MakePlansStale() => Write("stale", "");

    public void FailAfterApply() => Write("fail-after-apply", "");

    public void WaitForInterruptDuringApply() => Write("apply-waits-for-interrupt", "");

    public bool ApplyStarted => File.Exists(Path.Combine(Directory, "apply-started"));

    public bool ApplyFinishedGracefully => File.Exists(Path.Combine(Directory, "apply-finished"));

    public int InterruptsReceived => File.Exists(Path.Combine(Directory, "sigints")) ? int.Parse(File.ReadAllText(Path.Combine(Directory, "sigints")).Trim()) : 0;

    public IReadOnlyList<string> AppliedPlanFiles => ReadLines("applied.log");

    /// <summary>Every -var-file a plan read: its permission bits (octal, as <c>stat -c %a</c> prints them) and path.</summary>
    public IReadOnlyList<(string Mode, string Path)> VarFilesRead => [.. ReadLines("var-files.log").Select(line => line.Split('\u001f')).Select(p => (p[0], p[1]))];

    public IReadOnlyList<string> AutomationEnvironment => ReadLines("env.log");

    /// <summary>Every call so far: the working directory and the arguments.</summary>
    public IReadOnlyList<FakeTerraformCall> Calls => [.. ReadLines("calls.log").Select(line =>
    {
        var parts = line.Split('\u001f');
        return new FakeTerraformCall(parts[0], parts[1..]);
    })];

    public IReadOnlyList<FakeTerraformCall> CallsOf(string command) => [.. Calls.Where(c => c.Arguments.Length > 0 && c.Arguments[0] == command)];

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Write(string name, string content) => File.WriteAllText(Path.Combine(Directory, name), content, new UTF8Encoding(false));

    private string[] ReadLines(string name)
    {
        var path = Path.Combine(Directory, name);
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }
}

public sealed record FakeTerraformCall(string WorkingDirectory, string[] Arguments)
{
    public string Command => Arguments[0];

    public string? Flag(string name) => Arguments.FirstOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];

    public bool Has(string argument) => Arguments.Contains(argument);

    public override string ToString() => $"({WorkingDirectory}) terraform {string.Join(' ', Arguments)}";
}
