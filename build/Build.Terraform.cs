using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Terraform;

namespace Tesslate.Build;

internal sealed partial class Build
{
    // Variables whose values are not secret: registering them would mask "us-east-1" in every log line.
    private static readonly string[] PublicTfvars = ["aws_region", "project_name", "domain_name", "environment", "eks_cluster_version", "vpc_cidr"];

    private string StackDirectory => Path.Combine(RootDirectory, Settings.TerraformStack!);

    private string BackendFilePath => Path.Combine(StackDirectory, Settings.BackendFile);

    private string TerraformExecutable => Tools.Terraform;

    private TerraformCli Terraform => _run.Terraform.Get(() =>
        {
            var terraform = new TerraformCli(Runner, Log, new TerraformSettings(StackDirectory)
            {
                Executable = TerraformExecutable,
                InCi = IsCI,
                LockTimeout = LockTimeout,
                RecheckCommand = $"./build.sh TerraformPlan --environment {Settings.Id}",
                Preview = IsDryRun,
                TfvarsFixCommand = Tfvars is not null
                    ? $"edit {Path.GetFullPath(Tfvars)}, then upload it with ./build.sh TfvarsUpload --environment {Settings.Id} --tfvars {Tfvars}"
                    : $"./build.sh TfvarsDownload --environment {Settings.Id} (writes {Settings.TerraformStack}/{Settings.TfvarsFile}), edit it, then ./build.sh TfvarsUpload --environment {Settings.Id}",
            });
            Cleanup.Register("delete Terraform plan files and fetched tfvars", () => { terraform.Dispose(); return Task.CompletedTask; });
            return terraform;
        });

    /// <summary>The tfvars file for this run: --tfvars (only read), else Secrets Manager into the private workspace.</summary>
    private async Task<string> ResolveTfvarsAsync(CancellationToken cancellationToken)
    {
        TfvarsFile file;
        string path;
        if (Tfvars is not null)
        {
            path = Path.GetFullPath(Tfvars);
            file = TfvarsFile.Read(path, PublicTfvars);
        }
        else
        {
            var text = await ReadSecretAsync(Settings.TfvarsSecretId, cancellationToken);
            file = TfvarsFile.Parse(text, $"Secrets Manager secret {Settings.TfvarsSecretId}");
            file.RegisterSecrets(PublicTfvars);
            path = Terraform.Workspace.WriteFile(Settings.TfvarsFile, text);
        }
        if (Settings.TfvarsNameTheEnvironment)
            file.RequireEnvironment(Settings.Id);
        return path;
    }

    private async Task<TerraformPlan> PlanStackAsync(bool destroy, CancellationToken cancellationToken)
    {
        await Terraform.CheckVersionAsync(cancellationToken);
        RequireBackendFile();
        var tfvars = await ResolveTfvarsAsync(cancellationToken);
        TerraformPlan plan;
        try
        {
            var drift = await Terraform.EnsureBackendAsync(BackendFilePath, cancellationToken);
            if (drift.NeedsInit)
                Note(drift.Describe());
            plan = await Terraform.PlanAsync(new PlanOptions { VarFile = tfvars, Targets = TfTarget, Destroy = destroy, Variables = Settings.TerraformVariables }, cancellationToken);
        }
        catch (BuildFailure failure) when (IsDryRun && failure is not PrerequisiteMissingException)
        {
            // A dry run shows what it can; a plan it could not make is a warning, not the end of the preview.
            Log.Warning("Terraform plan not available in this dry run: {Problem}", failure.Problem);
            Note("not planned (dry run): " + failure.Problem.Split('\n')[0]);
            return new TerraformPlan(Terraform.Workspace.PlanFile, new PlanSummary([]), WasDryRun: true);
        }
        foreach (var line in plan.Summary.Lines())
            Note(line.Trim());
        foreach (var problem in plan.VariableProblems)
            Note($"tfvars: {problem.Describe()} (fix: {Terraform.Settings.TfvarsFixCommand})");
        Report.SetSection("terraform", new
        {
            environment = Settings.Id,
            stack = Settings.TerraformStack,
            plan.HasChanges,
            preview = plan.IsPreview,
            add = plan.Summary.ToAdd,
            change = plan.Summary.ToChange,
            destroy = plan.Summary.ToDestroy,
            replace = plan.Summary.ToReplace,
            outputs = plan.Summary.OutputChanges,
            destroyedOrReplaced = plan.Summary.DestroyedOrReplaced.Select(c => new { c.Address, action = c.Action.ToString() }),
            moveHints = plan.Summary.MoveHints.Select(h => h.Text),
            variableProblems = plan.VariableProblems.Select(p => new { variable = p.Variable, kind = p.Kind.ToString(), problem = p.Describe() }),
        });
        Report.AddMarkdown($"Terraform plan ({Settings.Id}): {plan.Summary.CountsLine}", plan.Summary.ToMarkdown($"Terraform plan for {Settings.Id}"));
        return plan;
    }

    private void RequireBackendFile()
    {
        if (!File.Exists(BackendFilePath))
            throw new BuildFailure($"Backend config not found: {BackendFilePath}.", "Run ./build.sh GenerateBackendFiles (it writes the file from the environment table) and commit it.");
    }

    private async Task ApplyTerraformAsync(CancellationToken cancellationToken)
    {
        var plan = _run.ReleaseTerraformPlan.ValueOrDefault ?? await PlanTerraformApplyAsync(cancellationToken);
        if (plan.HasChanges && !plan.IsPreview)
            await BeforeChangeAsync($"terraform apply: {plan.Summary.CountsLine}", cancellationToken);
        if (await Terraform.ApplyAsync(plan, cancellationToken))
            Note($"applied: {plan.Summary.CountsLine}");
        else if (plan.IsPreview && plan.HasChanges)
            Note($"would apply: {plan.Summary.CountsLine}");
        else
            Note(plan.WasDryRun ? "not planned in this dry run" : "no changes: nothing applied");
        AdoptOutputs(await Terraform.OutputAsync(cancellationToken));
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
        return await PlanStackAsync(destroy: false, cancellationToken);
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

    private async Task InitTerraformAsync(CancellationToken cancellationToken)
    {
        await Terraform.CheckVersionAsync(cancellationToken);
        RequireBackendFile();
        await Terraform.InitAsync(BackendFilePath, cancellationToken);
    }

    private async Task PlanTerraformAsync(CancellationToken cancellationToken)
    {
        var plan = await PlanStackAsync(destroy: false, cancellationToken);
        foreach (var line in plan.Summary.Lines())
            Log.Information("{Line:l}", line);
        foreach (var problem in plan.VariableProblems)
            Log.Warning("tfvars: {Problem}. Fix: {Fix}", problem.Describe(), Terraform.Settings.TfvarsFixCommand);
    }

    private async Task DestroyTerraformAsync(CancellationToken cancellationToken)
    {
        var plan = await PlanStackAsync(destroy: true, cancellationToken);
        if (IsDryRun)
            return;
        // A typed confirmation even with --approve: destroying is never a flag away.
        await Confirmations.RequireAsync($"Destroy {Settings.TerraformStack} for {Settings.Id}: {plan.Summary.CountsLine}", $"destroy {Settings.Id}", cancellationToken);
        await BeforeChangeAsync($"terraform destroy: {plan.Summary.CountsLine}", cancellationToken);
        await Terraform.ApplyAsync(plan, cancellationToken);
        Note($"destroyed: {plan.Summary.CountsLine}");
    }

    private async Task ShowTerraformOutputAsync(CancellationToken cancellationToken)
    {
        await Terraform.CheckVersionAsync(cancellationToken);
        await Terraform.EnsureBackendAsync(BackendFilePath, cancellationToken);
        var outputs = await Terraform.OutputAsync(cancellationToken);
        foreach (var name in outputs.Names.Order(StringComparer.Ordinal))
            Log.Information("{Name} = {Value}", name, outputs.TryGetString(name) ?? "(not a string: see terraform output -json)");
        AdoptOutputs(outputs);
    }

    private async Task RunTerraformStateAsync(CancellationToken cancellationToken)
    {
        var command = OperationRules.ParseStateArgs(StateArgs);
        await Terraform.CheckVersionAsync(cancellationToken);
        await Terraform.EnsureBackendAsync(BackendFilePath, cancellationToken);
        switch (command.Verb)
        {
            case "list":
                foreach (var address in await Terraform.StateListAsync(cancellationToken))
                    Log.Information("{Address}", address);
                break;
            case "show":
                Log.Information("{State}", await Terraform.StateShowAsync(command.Addresses[0], cancellationToken));
                break;
            case "rm":
                await ApproveOnceAsync($"Remove {string.Join(", ", command.Addresses)} from the {Settings.Id} state (the resources stay, Terraform forgets them)?", cancellationToken);
                await Terraform.StateRemoveAsync(command.Addresses, cancellationToken);
                break;
        }
    }

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
