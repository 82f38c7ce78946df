using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Terraform;

namespace Tesslate.Build;

internal sealed partial class Build
{
    private string StackDirectory => Path.Combine(RootDirectory, Settings.TerraformStack!);

    /// <summary>The environment's Terraform stage: created once per run by whichever target needs it first.</summary>
    private TerraformStage TerraformStack => _run.Terraform.Get(() =>
    {
        var cli = new TerraformCli(Runner, Log, TerraformStage.CliSettings(Settings, StackDirectory, Tools.Terraform, IsCI, LockTimeout, IsDryRun, Tfvars));
        Cleanup.Register("delete Terraform plan files and fetched tfvars", () => { cli.Dispose(); return Task.CompletedTask; });
        return new TerraformStage(Settings, cli, new TerraformStageInputs(Tfvars, TfTarget, ReadSecretAsync, BeforeChangeAsync), new StageContext(Log, Report, IsDryRun));
    });

    private async Task ApplyTerraformAsync(CancellationToken cancellationToken)
    {
        var plan = _run.ReleaseTerraformPlan.ValueOrDefault ?? await PlanTerraformApplyAsync(cancellationToken);
        AdoptOutputs(await TerraformStack.ApplyAsync(plan, cancellationToken));
    }

    /// <summary>
    /// Later targets of this run use what the stack says it built instead of the environment table's guess: the
    /// cluster_name output (an explicit --cluster-name still wins). The registry is only compared: images may already be
    /// pushing to it in parallel.
    /// </summary>
    private void AdoptOutputs(TerraformOutputs outputs)
    {
        if (outputs.TryGetString("cluster_name") is { } cluster && cluster != Settings.ClusterName)
        {
            if (ClusterName is not null)
            {
                Log.Warning("Terraform output cluster_name is {Output}, but --cluster-name is {Flag}: this run keeps {Flag}.", cluster, ClusterName, ClusterName);
            }
            else
            {
                Log.Warning("Terraform output cluster_name is {Output}, the environment table says {Table}: later targets use {Output}.", cluster, Settings.ClusterName, cluster);
                _run.AdoptedClusterName.Get(() => cluster);
            }
        }
        if (outputs.TryGetString("ecr_registry_url") is { } registry && registry != Settings.Registry)
            Log.Warning("Terraform output ecr_registry_url is {Output}, but this run uses {Registry}: if the output is right, pass --registry {Output} (or the matching --aws-account-id/--aws-region).", registry, Settings.Registry, registry);
    }

    private async Task<TerraformPlan> PlanTerraformApplyAsync(CancellationToken cancellationToken)
    {
        await RequireSharedStackAsync(cancellationToken);
        return await TerraformStack.PlanAsync(destroy: false, cancellationToken);
    }

    /// <summary>beta and production pull from the ECR repositories the shared stack creates: apply shared first.</summary>
    private async Task RequireSharedStackAsync(CancellationToken cancellationToken)
    {
        if (Environment is not (DeployEnvironment.Beta or DeployEnvironment.Production) || Registry is not null)
            return;
        var session = await AwsAsync(cancellationToken);
        try
        {
            await session.Ecr.DescribeRepositoriesAsync(Catalog.Images.Select(i => i.Repository).Distinct(), cancellationToken);
        }
        catch (global::Tesslate.Build.Aws.RepositoryNotFoundException missing)
        {
            throw new BuildFailure($"The shared stack's ECR repositories are not there yet ({missing.Problem}).",
                "First-time provisioning goes shared → beta → production: run ./build.sh TerraformApply --environment shared first (terraform/README.md).");
        }
    }

    private Task InitTerraformAsync(CancellationToken cancellationToken) => TerraformStack.InitAsync(cancellationToken);

    private Task PlanTerraformAsync(CancellationToken cancellationToken) => TerraformStack.PlanAndPrintAsync(cancellationToken);

    private Task DestroyTerraformAsync(CancellationToken cancellationToken) => TerraformStack.DestroyAsync(Confirmations, cancellationToken);

    private async Task ShowTerraformOutputAsync(CancellationToken cancellationToken) => AdoptOutputs(await TerraformStack.PrintOutputsAsync(cancellationToken));

    private Task RunTerraformStateAsync(CancellationToken cancellationToken) =>
        TerraformStack.StateAsync(OperationRules.ParseStateArgs(StateArgs), ApproveOnceAsync, cancellationToken);

    /// <summary>The backend file of every environment with Terraform, as the environment table says it should be.</summary>
    internal IEnumerable<(string Path, string Text)> ExpectedBackendFiles() =>
        Enum.GetValues<DeployEnvironment>()
            .Select(e => EnvironmentTable.Defaults(e) with { StateBucket = StateBucket ?? EnvironmentTable.DefaultStateBucket })
            .Where(s => s.RunsTerraform)
            .Select(s => (Path.Combine(RootDirectory, s.TerraformStack!, s.BackendFile),
                BackendConfig.ForEnvironment(s.StateBucket, s.Id, s.Region).Render($"Generated by ./build.sh GenerateBackendFiles from the environment table ({s.Id}). Do not edit.")));

    private async Task GenerateBackendFilesAsync(CancellationToken cancellationToken)
    {
        var stale = new List<string>();
        foreach (var (path, text) in ExpectedBackendFiles())
        {
            if (File.Exists(path) && await File.ReadAllTextAsync(path, cancellationToken) == text)
                continue;
            stale.Add(Path.GetRelativePath(RootDirectory, path));
            if (Check || IsDryRun)
                continue;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, text, cancellationToken);
        }
        if (Check && stale.Count > 0)
            throw new BuildFailure($"Backend files differ from the environment table: {string.Join(", ", stale)}.", "Run ./build.sh GenerateBackendFiles and commit the result.");
        Note(stale.Count == 0 ? "backend files up to date" : $"wrote {string.Join(", ", stale)}");
    }
}
