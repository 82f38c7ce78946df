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

    private readonly Once<TerraformCli> _terraform = new();
    private readonly Handoff<TerraformPlan> _releaseTerraformPlan = new(nameof(ReleasePlan));

    private string StackDirectory => Path.Combine(RootDirectory, Settings.TerraformStack!);

    private string BackendFilePath => Path.Combine(StackDirectory, Settings.BackendFile);

    private string TerraformExecutable => Tools.Terraform;

    private TerraformCli Terraform => _terraform.Get(() =>
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

    private bool IsPlanned(string target) => ExecutionPlan?[target] is { Status: TargetStatus.Scheduled or TargetStatus.Running };

    /// <summary>What this run will change: the basis of the approval, the deploy lock and the cluster permission check.</summary>
    private RunChanges Changes => RunChanges.Of(ScheduledTargets, Settings.RunsTerraform);

    /// <summary>The targets this run still executes (or is executing).</summary>
    private IReadOnlyList<BuildTarget> ScheduledTargets =>
        [.. ExecutionPlan?.Targets.Where(t => t.Status is TargetStatus.Scheduled or TargetStatus.Running).Select(t => t.Target) ?? []];

    /// <summary>
    /// A target that pushes or changes the environment (<see cref="GuardedByReleasePlan"/>) runs after ReleasePlan's
    /// work, which happens once per run even under --skip ReleasePlan: skipping the plan never skips the permission
    /// check, the deploy lock or the approval. Targets that touch images or a cluster are refused on shared.
    /// </summary>
    protected override async Task BeforeTargetAsync(BuildTarget target, CancellationToken cancellationToken)
    {
        if (!TargetFacts.IsGuarded(target))
            return;
        try
        {
            await PrepareReleaseAsync(cancellationToken);
        }
        catch (PrerequisiteMissingException) when (IsDryRun)
        {
            // ReleasePlan reported what it could not check; the dry run still shows what this target would do.
        }
    }

    protected override IEnumerable<Requirement> RequirementsOf(BuildTarget target) =>
        TargetFacts.NeedsWorkloads(target) ? [new Requirement(NotShared, SharedRefusal, SharedFix)] : [];

    private readonly Once _preparation = new();

    private Task PrepareReleaseAsync(CancellationToken cancellationToken)
        => _preparation.RunAsync(() => PrepareReleaseOnceAsync(cancellationToken));

    /// <summary>
    /// Everything read-only first, then one approval before the first mutation: in production for a run that changes
    /// the environment, and anywhere the Terraform plan destroys or replaces something. A build-only run needs none.
    /// </summary>
    private async Task PrepareReleaseOnceAsync(CancellationToken cancellationToken)
    {
        var changes = Changes;
        var clusterExists = true;
        if (changes.Cluster)
        {
            if (changes.Terraform && !(clusterExists = await ClusterExistsAsync(cancellationToken)))
            {
                Log.Warning("{Cluster} does not exist yet (first provisioning): no cluster permission check and no deploy lock; Terraform's state lock is the only guard this run.", Settings.ClusterName);
                Note($"{Settings.ClusterName} does not exist yet: Terraform's state lock is the only guard");
            }
            else
            {
                await CheckClusterPermissionsAsync(cancellationToken);
                await TakeDeployLockAsync(cancellationToken);
            }
        }
        await StartDeploymentRecordAsync(cancellationToken);
        var plan = new ReleasePlanSummary(Settings.Id);
        if (IsPlanned(nameof(BuildImages)))
            plan = plan with { Images = (await PlanImagesAsync(cancellationToken)).Images };
        if (changes.Terraform)
        {
            var terraformPlan = await PlanTerraformApplyAsync(cancellationToken);
            _releaseTerraformPlan.Set(terraformPlan);
            plan = terraformPlan.WasDryRun
                ? plan with { TerraformNotPlanned = "the dry run could not plan (see the warning above)" }
                : plan with { Terraform = terraformPlan.Summary, TerraformVariableProblems = terraformPlan.VariableProblems };
        }
        if (IsPlanned(nameof(KustomizeApply)) && Settings.HasWorkloads)
        {
            var builtLater = plan.Images?.Where(i => i.Action != ImageAction.Reuse).Select(i => i.Name).ToList() ?? [];
            var (diff, notCompared, guard) = !clusterExists ? (null, $"{Settings.ClusterName} does not exist yet (first provisioning)", null)
                : await KubernetesDiffAsync(builtLater, cancellationToken);
            plan = plan with { Kubernetes = diff, KubernetesNotCompared = notCompared, Guard = guard };
        }
        if (changes.Environment)
        {
            foreach (var line in plan.Lines())
                Log.Information("{Line:l}", line);
            Report.SetSection("releasePlan", plan.ToReport());
        }
        foreach (var unused in plan.Guard?.UnusedAllowances ?? [])
            Log.Warning("--allow-volume-change {Allowance} names no volume change of this release: nothing to allow there.", unused);
        // A blocking finding stops the release here, before any push, Terraform or apply (a dry run goes on to show the rest).
        if (plan.Guard?.Failure() is { } blocked && !IsDryRun)
            throw blocked;
        var reasons = ReleaseApproval.Reasons(Settings, changes, plan.Terraform?.DestroyedOrReplaced.Count() ?? 0, plan.Guard?.AllowedVolumeChanges.Count ?? 0);
        if (reasons.Count == 0 || IsDryRun)
            return;
        await ApproveOnceAsync($"Approve the release to {Settings.Id} ({string.Join("; ", reasons)})?", cancellationToken);
        Note($"approved ({string.Join("; ", reasons)})");
    }

    /// <summary>Only asked when TerraformApply is in the run: on first provisioning it creates the EKS cluster.</summary>
    private async Task<bool> ClusterExistsAsync(CancellationToken cancellationToken)
    {
        if (Environment == DeployEnvironment.Local)
            return true;
        try
        {
            await (await AwsAsync(cancellationToken)).Eks.DescribeClusterAsync(Settings.ClusterName!, cancellationToken);
            return true;
        }
        catch (global::Tesslate.Build.Aws.ResourceNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Before any push or apply: may the chosen role apply this overlay, restart its workloads, hold the lock, record the release?</summary>
    private async Task CheckClusterPermissionsAsync(CancellationToken cancellationToken)
    {
        if (!IsPlanned(nameof(KustomizeApply)) || !Settings.HasWorkloads)
            return;
        try
        {
            var cluster = await ClusterAsync(cancellationToken);
            var plans = new List<ApplyPlan>();
            foreach (var overlay in ReleaseOverlays)
                plans.Add(await PlanApplyAsync(await RenderAsync(overlay.Path, cancellationToken), cluster, dryRun: true, overlay.DefaultNamespace, cancellationToken));
            var workloads = plans.SelectMany(p => p.Objects).Select(o => o.Object.Ref).Where(IsWorkload);
            var release = PermissionPreflight.ForRelease(Namespace, history: IsPlanned(nameof(Deploy)), seeds: IsPlanned(nameof(SeedApps)));
            await PermissionPreflight.EnsureAsync(cluster, plans.SelectMany(PermissionPreflight.ForApply).Concat(PermissionPreflight.ForRollouts(workloads, restart: true)).Concat(release), PermissionFix, cancellationToken);
            Note($"{ClusterName ?? Settings.ClusterName ?? "cluster"}: the role may apply {plans.Sum(p => p.Objects.Count)} objects");
        }
        catch (PrerequisiteMissingException missing) when (IsDryRun)
        {
            Log.Warning("Cluster permissions not checked in dry-run: {Problem}", missing.Problem);
        }
    }

    private async Task ApplyTerraformAsync(CancellationToken cancellationToken)
    {
        var plan = _releaseTerraformPlan.ValueOrDefault ?? await PlanTerraformApplyAsync(cancellationToken);
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
                _adoptedClusterName.Get(() => cluster);
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
