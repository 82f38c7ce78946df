using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Terraform;

namespace Tesslate.Build.Platform;

/// <summary>What a stage needs of the run it works in: its log, its report and whether it only shows what it would do.</summary>
public sealed record StageContext(ILogger Log, RunReport Report, bool DryRun)
{
    /// <summary>A detail of the current target, shown in the run's summary (secrets redacted).</summary>
    public static void Note(string detail) => BuildBase.Note(detail);
}

/// <summary>What the Terraform stage is given for its run, bound once from the parameters.</summary>
/// <param name="LocalTfvars">--tfvars: a local file, only read; null: the environment's Secrets Manager secret.</param>
/// <param name="Targets">--tf-target addresses.</param>
/// <param name="ReadSecret">Reads a Secrets Manager secret's text (the tfvars).</param>
/// <param name="BeforeChange">The run's change gate (lost lock, approval) before an apply or destroy changes anything.</param>
public sealed record TerraformStageInputs(
    string? LocalTfvars,
    IReadOnlyList<string> Targets,
    Func<string, CancellationToken, Task<string>> ReadSecret,
    Func<string, CancellationToken, Task> BeforeChange);

/// <summary>
/// The environment's Terraform stack for one run, created once from the bound settings: its CLI in a private workspace,
/// the tfvars it plans with (checked to name the environment), plans summarised into the target's notes and the run
/// report, apply and destroy behind the change gate. The targets TerraformInit/Plan/Apply/Destroy/Output/State each
/// make one call here.
/// </summary>
public sealed class TerraformStage(EnvironmentSettings settings, TerraformCli terraform, TerraformStageInputs inputs, StageContext run)
{
    // Variables whose values are not secret: registering them would mask "us-east-1" in every log line.
    private static readonly string[] PublicTfvars = ["aws_region", "project_name", "domain_name", "environment", "eks_cluster_version", "vpc_cidr"];

    private string BackendFilePath => Path.Combine(terraform.Settings.StackDirectory, settings.BackendFile);

    /// <summary>The settings of the CLI a stage runs: where, how long it waits for the lock, and the fixes it names.</summary>
    public static TerraformSettings CliSettings(EnvironmentSettings settings, string stackDirectory, string executable, bool inCi, TimeSpan lockTimeout, bool preview, string? localTfvars) =>
        new(stackDirectory)
        {
            Executable = executable,
            InCi = inCi,
            LockTimeout = lockTimeout,
            RecheckCommand = $"./build.sh TerraformPlan --environment {settings.Id}",
            Preview = preview,
            TfvarsFixCommand = localTfvars is not null
                ? $"edit {Path.GetFullPath(localTfvars)}, then upload it with ./build.sh TfvarsUpload --environment {settings.Id} --tfvars {localTfvars}"
                : $"./build.sh TfvarsDownload --environment {settings.Id} (writes {settings.TerraformStack}/{settings.TfvarsFile}), edit it, then ./build.sh TfvarsUpload --environment {settings.Id}",
        };

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        await terraform.CheckVersionAsync(cancellationToken);
        RequireBackendFile();
        await terraform.InitAsync(BackendFilePath, cancellationToken);
    }

    /// <summary>
    /// A plan of the stack (or of its destruction), summarised into the target's notes and the run report. In a dry
    /// run a plan that cannot be made is a warning and an empty plan, not the end of the preview.
    /// </summary>
    public async Task<TerraformPlan> PlanAsync(bool destroy, CancellationToken cancellationToken)
    {
        await terraform.CheckVersionAsync(cancellationToken);
        RequireBackendFile();
        var tfvars = await ResolveTfvarsAsync(cancellationToken);
        TerraformPlan plan;
        try
        {
            var drift = await terraform.EnsureBackendAsync(BackendFilePath, cancellationToken);
            if (drift.NeedsInit)
                StageContext.Note(drift.Describe());
            plan = await terraform.PlanAsync(new PlanOptions { VarFile = tfvars, Targets = inputs.Targets, Destroy = destroy, Variables = settings.TerraformVariables }, cancellationToken);
        }
        catch (BuildFailure failure) when (run.DryRun && failure is not PrerequisiteMissingException)
        {
            run.Log.Warning("Terraform plan not available in this dry run: {Problem}", failure.Problem);
            StageContext.Note("not planned (dry run): " + failure.Problem.Split('\n')[0]);
            return new TerraformPlan(terraform.Workspace.PlanFile, new PlanSummary([]), WasDryRun: true);
        }
        foreach (var line in plan.Summary.Lines())
            StageContext.Note(line.Trim());
        foreach (var problem in plan.VariableProblems)
            StageContext.Note($"tfvars: {problem.Describe()} (fix: {terraform.Settings.TfvarsFixCommand})");
        run.Report.SetSection("terraform", new
        {
            environment = settings.Id,
            stack = settings.TerraformStack,
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
        run.Report.AddMarkdown($"Terraform plan ({settings.Id}): {plan.Summary.CountsLine}", plan.Summary.ToMarkdown($"Terraform plan for {settings.Id}"));
        return plan;
    }

    /// <summary>TerraformPlan: the plan, and its summary and tfvars problems in the log.</summary>
    public async Task PlanAndPrintAsync(CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(destroy: false, cancellationToken);
        foreach (var line in plan.Summary.Lines())
            run.Log.Information("{Line:l}", line);
        foreach (var problem in plan.VariableProblems)
            run.Log.Warning("tfvars: {Problem}. Fix: {Fix}", problem.Describe(), terraform.Settings.TfvarsFixCommand);
    }

    /// <summary>Applies exactly the plan given (after the change gate, when it changes anything); then the stack's outputs.</summary>
    public async Task<TerraformOutputs> ApplyAsync(TerraformPlan plan, CancellationToken cancellationToken)
    {
        if (plan.HasChanges && !plan.IsPreview)
            await inputs.BeforeChange($"terraform apply: {plan.Summary.CountsLine}", cancellationToken);
        if (await terraform.ApplyAsync(plan, cancellationToken))
            StageContext.Note($"applied: {plan.Summary.CountsLine}");
        else if (plan.IsPreview && plan.HasChanges)
            StageContext.Note($"would apply: {plan.Summary.CountsLine}");
        else
            StageContext.Note(plan.WasDryRun ? "not planned in this dry run" : "no changes: nothing applied");
        return await terraform.OutputAsync(cancellationToken);
    }

    /// <summary>Destroys the stack after a typed confirmation (even with --approve: destroying is never a flag away) and the change gate.</summary>
    public async Task DestroyAsync(Approvals confirmations, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(destroy: true, cancellationToken);
        if (run.DryRun)
            return;
        await confirmations.RequireAsync($"Destroy {settings.TerraformStack} for {settings.Id}: {plan.Summary.CountsLine}", $"destroy {settings.Id}", cancellationToken);
        await inputs.BeforeChange($"terraform destroy: {plan.Summary.CountsLine}", cancellationToken);
        await terraform.ApplyAsync(plan, cancellationToken);
        StageContext.Note($"destroyed: {plan.Summary.CountsLine}");
    }

    /// <summary>TerraformOutput: every output in the log; returned for the run to adopt.</summary>
    public async Task<TerraformOutputs> PrintOutputsAsync(CancellationToken cancellationToken)
    {
        await terraform.CheckVersionAsync(cancellationToken);
        await terraform.EnsureBackendAsync(BackendFilePath, cancellationToken);
        var outputs = await terraform.OutputAsync(cancellationToken);
        foreach (var name in outputs.Names.Order(StringComparer.Ordinal))
            run.Log.Information("{Name} = {Value}", name, outputs.TryGetString(name) ?? "(not a string: see terraform output -json)");
        return outputs;
    }

    /// <summary>TerraformState: list, show, or rm after the approval given.</summary>
    public async Task StateAsync(StateCommand command, Func<string, CancellationToken, Task> approve, CancellationToken cancellationToken)
    {
        await terraform.CheckVersionAsync(cancellationToken);
        await terraform.EnsureBackendAsync(BackendFilePath, cancellationToken);
        switch (command.Verb)
        {
            case "list":
                foreach (var address in await terraform.StateListAsync(cancellationToken))
                    run.Log.Information("{Address}", address);
                break;
            case "show":
                run.Log.Information("{State}", await terraform.StateShowAsync(command.Addresses[0], cancellationToken));
                break;
            case "rm":
                await approve($"Remove {string.Join(", ", command.Addresses)} from the {settings.Id} state (the resources stay, Terraform forgets them)?", cancellationToken);
                await terraform.StateRemoveAsync(command.Addresses, cancellationToken);
                break;
        }
    }

    /// <summary>The tfvars file for this run: --tfvars (only read), else Secrets Manager into the private workspace.</summary>
    private async Task<string> ResolveTfvarsAsync(CancellationToken cancellationToken)
    {
        TfvarsFile file;
        string path;
        if (inputs.LocalTfvars is not null)
        {
            path = Path.GetFullPath(inputs.LocalTfvars);
            file = TfvarsFile.Read(path, PublicTfvars);
        }
        else
        {
            var text = await inputs.ReadSecret(settings.TfvarsSecretId, cancellationToken);
            file = TfvarsFile.Parse(text, $"Secrets Manager secret {settings.TfvarsSecretId}");
            file.RegisterSecrets(PublicTfvars);
            path = terraform.Workspace.WriteFile(settings.TfvarsFile, text);
        }
        if (settings.TfvarsNameTheEnvironment)
            file.RequireEnvironment(settings.Id, "--environment");
        return path;
    }

    private void RequireBackendFile()
    {
        if (!File.Exists(BackendFilePath))
            throw new BuildFailure($"Backend config not found: {BackendFilePath}.", "Run ./build.sh GenerateBackendFiles (it writes the file from the environment table) and commit it.");
    }
}
