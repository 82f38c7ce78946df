using Serilog;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Terraform;

namespace Tesslate.Build.Tests.Terraform;

/// <summary>A stack folder, its backend files, a FakeTerraform and a TerraformCli wired to them; all deleted on dispose.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TerraformTestBed : IDisposable
{
    public const string Bucket = "example-terraform-state";
    public const string Region = "us-east-1";

    private readonly List<TerraformCli> _clis = [];

    public TerraformTestBed()
    {
        StackDirectory = Path.Combine(Path.GetTempPath(), "tf-stack-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(StackDirectory);
    }

    public FakeTerraform Fake { get; } = new();

    public string StackDirectory { get; }

    public LogCapture Log { get; } = new();

    public ILogger Logger => Log.Logger;

    public string WriteBackend(string environment, string? bucket = null, string? region = null, string? key = null)
    {
        var config = BackendConfig.ForEnvironment(bucket ?? Bucket, environment, region ?? Region);
        if (key is not null)
            config = config with { Key = key };
        var path = Path.Combine(StackDirectory, $"backend-{environment}.hcl");
        File.WriteAllText(path, config.Render("Generated for tests."));
        return path;
    }

    public string WriteTfvars(string content)
    {
        var path = Path.Combine(StackDirectory, "terraform.test.tfvars");
        File.WriteAllText(path, content);
        return path;
    }

    public TerraformCli Cli(Func<TerraformSettings, TerraformSettings>? configure = null, bool dryRun = false)
    {
        var settings = new TerraformSettings(StackDirectory)
        {
            Executable = Fake.ExecutablePath,
            RecheckCommand = "./build.sh TerraformPlan --environment beta",
        };
        var cli = new TerraformCli(new ProcessRunner(Logger, dryRun), Logger, configure?.Invoke(settings) ?? settings);
        _clis.Add(cli);
        return cli;
    }

    public void Dispose()
    {
        foreach (var cli in _clis)
            cli.Dispose();
        Fake.Dispose();
        try
        {
            Directory.Delete(StackDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
