using System.Globalization;
using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Tools;

namespace Tesslate.Build.Terraform;

/// <summary>
/// Terraform for one stack folder, through the process runner. Every command first checks the version (≥ 1.11);
/// <c>-input=false</c> wherever Terraform accepts it; <c>-no-color</c> and <c>TF_IN_AUTOMATION=1</c> in CI;
/// <c>-lock-timeout</c> on everything that takes the state lock. Commands run with the stack folder as working
/// directory (not <c>-chdir</c>) and absolute paths for every file, so the logged command line is exactly what a
/// person pastes after <c>cd</c>-ing there. Commands that hold the state lock are never killed on Ctrl-C: they get
/// one interrupt and are waited for, since a second signal makes Terraform abandon the lock.
/// Dispose deletes the private workspace with the plan file and its JSON.
/// </summary>
public sealed class TerraformCli(IProcessRunner runner, ILogger logger, TerraformSettings settings) : IDisposable
{
    private readonly Lazy<TerraformWorkspace> _workspace = new(() => TerraformWorkspace.Create());
    private Task<Version?>? _version;

    public TerraformSettings Settings => settings;

    /// <summary>The private temp folder of this run (created on first use).</summary>
    public TerraformWorkspace Workspace => _workspace.Value;

    /// <summary>The version probe (<c>terraform version -json</c>, read by <see cref="TerraformVersion.Parse"/>): this adapter's check and Doctor's.</summary>
    public static ToolCommand VersionCommand(string terraform = "terraform") => new ToolCommand(terraform, ["version", "-json"]).Prefixed("terraform");

    /// <summary>Finds terraform and checks it is 1.11 or newer; runs once, before any other command.</summary>
    public async Task<Version?> CheckVersionAsync(CancellationToken cancellationToken)
    {
        _version ??= ReadVersionAsync(cancellationToken);
        return await _version;
    }

    private async Task<Version?> ReadVersionAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(settings.StackDirectory))
        {
            throw new PrerequisiteMissingException($"The Terraform stack folder '{settings.StackDirectory}' does not exist.",
                "Run from the repository root, or check the path of the stack.");
        }
        var path = ToolLocator.Find(settings.Executable) ?? throw new PrerequisiteMissingException(
            $"Terraform was not found ('{settings.Executable}' is not on PATH).",
            $"Install Terraform {TerraformVersion.Minimum.ToString(2)} or newer (https://developer.hashicorp.com/terraform/install, " +
            "'brew install hashicorp/tap/terraform', or hashicorp/setup-terraform in GitHub Actions), or set TERRAFORM_EXE to its full path.");
        var result = await runner.RunAsync(InStack(VersionCommand(settings.Executable)).AsProbe(), cancellationToken);
        if (result.WasDryRun)
            return null;
        var version = TerraformVersion.Parse(result.StandardOutput);
        TerraformVersion.Require(version, path, result.StandardOutput);
        logger.Debug("Terraform {Version} at {Path}", version, path);
        return version;
    }

    /// <summary><c>init -reconfigure -backend-config=FILE</c>, output streamed. Never <c>-migrate-state</c>.</summary>
    public async Task InitAsync(string backendConfigFile, CancellationToken cancellationToken)
    {
        await CheckVersionAsync(cancellationToken);
        RequireBackendFile(backendConfigFile);
        await runner.RunAsync(InitCommand(backendConfigFile), cancellationToken);
    }

    /// <summary>
    /// Compares <c>.terraform/terraform.tfstate</c> with the backend file (bucket, key, region) and re-initialises
    /// with <c>init -reconfigure</c> when the folder is not initialised or points elsewhere. Call before plan, apply,
    /// destroy, output and state commands.
    /// </summary>
    public async Task<BackendDrift> EnsureBackendAsync(string backendConfigFile, CancellationToken cancellationToken)
    {
        await CheckVersionAsync(cancellationToken);
        RequireBackendFile(backendConfigFile);
        BackendConfig expected;
        try
        {
            expected = BackendConfig.Parse(await File.ReadAllTextAsync(backendConfigFile, cancellationToken));
        }
        catch (FormatException error)
        {
            throw new BuildFailure($"The backend file '{backendConfigFile}' cannot be read: {error.Message}",
                "Regenerate the backend files, or give bucket, key and region as name = \"value\" lines.");
        }

        var drift = BackendDrift.Compare(expected, BackendDrift.ReadLoaded(settings.StackDirectory));
        if (!drift.NeedsInit)
            return drift;

        logger.Information("Terraform in {Stack}: {Drift}; running init -reconfigure with {Backend}", settings.StackDirectory, drift.Describe(), Path.GetFileName(backendConfigFile));
        try
        {
            // Quiet: init is chatty; its output is shown in full only when it fails. It writes local files only, so a
            // preview (--dry-run) runs it too, to be able to plan.
            await runner.RunAsync(InitCommand(backendConfigFile).Capturing().Quietly().ReadOnly(settings.Preview), cancellationToken);
        }
        catch (ProcessFailedException failed)
        {
            var output = string.Join(System.Environment.NewLine, failed.Result.Output.Select(l => "    " + l.Text));
            throw new BuildFailure(
                $"Re-initialising Terraform in {settings.StackDirectory} failed ({drift.Describe()}). terraform init printed:{System.Environment.NewLine}{output}",
                "Fix the cause named above (credentials, bucket name or region in the backend file), then run init again.", failed);
        }
        return drift;
    }

    /// <summary>
    /// <c>plan -detailed-exitcode -out=&lt;private file&gt;</c>: exit 0 = no changes, 2 = changes (then summarised
    /// with <c>show -json</c>). A lock held by someone else fails with Terraform's lock information; variables the
    /// stack needs and nobody set fail naming each variable; tfvars values the stack does not declare are returned
    /// as <see cref="TerraformPlan.VariableProblems"/>. In a preview the plan runs without the state lock.
    /// </summary>
    public async Task<TerraformPlan> PlanAsync(PlanOptions options, CancellationToken cancellationToken)
    {
        await CheckVersionAsync(cancellationToken);
        if (options.VarFile is { } varFile && !File.Exists(varFile))
            throw new BuildFailure($"The tfvars file '{varFile}' does not exist.", "Point to an existing .tfvars file.");
        var planFile = Workspace.PlanFile;
        ProcessResult result;
        try
        {
            result = await TerraformFailures.ExplainingAsync(() => runner.RunAsync(PlanCommand(options, planFile), cancellationToken), settings);
        }
        catch (ProcessFailedException failed) when (VariablesFailure(failed.Result.Output, options, failed) is { } named)
        {
            throw named;
        }
        if (result.WasDryRun)
            return new TerraformPlan(planFile, new PlanSummary([]), WasDryRun: true);
        TerraformWorkspace.MakePrivate(planFile);
        var problems = VariableProblemsOf(result.Output, options).Where(p => !p.StopsThePlan).ToList();
        foreach (var problem in problems)
            logger.Warning("Terraform plan: {Problem}", problem.Describe());
        if (result.ExitCode == 0)
        {
            logger.Information("Terraform plan: no changes");
            return new TerraformPlan(planFile, new PlanSummary([])) { VariableProblems = problems, IsPreview = settings.Preview };
        }
        var summary = await ShowPlanAsync(planFile, cancellationToken);
        logger.Information("Terraform plan: {Counts}", summary.CountsLine);
        return new TerraformPlan(planFile, summary) { VariableProblems = problems, IsPreview = settings.Preview };
    }

    /// <summary>Terraform's diagnostics about the plan's variables, each named; "N other variable(s)" named from the tfvars.</summary>
    internal IReadOnlyList<VariableProblem> VariableProblemsOf(IEnumerable<OutputLine> output, PlanOptions options)
    {
        var (problems, more) = TerraformDiagnostics.VariableProblems(TerraformDiagnostics.Parse(output.Select(l => l.Text)));
        if (more == 0 || options.VarFile is not { } varFile || !File.Exists(varFile))
            return problems;
        var declared = TerraformDiagnostics.DeclaredVariables(settings.StackDirectory);
        var named = problems.Select(p => p.Variable).ToHashSet(StringComparer.Ordinal);
        var rest = TfvarsFile.Parse(File.ReadAllText(varFile), varFile).VariableNames
            .Where(name => !declared.Contains(name) && !named.Contains(name))
            .Order(StringComparer.Ordinal)
            .Select(name => new VariableProblem(VariableProblemKind.Undeclared, name, varFile));
        return [.. problems, .. rest];
    }

    private BuildFailure? VariablesFailure(IEnumerable<OutputLine> output, PlanOptions options, Exception inner)
    {
        var problems = VariableProblemsOf(output, options);
        var stopping = problems.Where(p => p.StopsThePlan).ToList();
        if (stopping.Count == 0)
            return null;
        var stack = Path.GetFileName(Path.TrimEndingDirectorySeparator(settings.StackDirectory));
        var lines = problems.OrderByDescending(p => p.StopsThePlan).Select(p => "    " + p.Describe());
        var fixes = new List<string>();
        if (stopping.Any(p => p.Kind == VariableProblemKind.Missing))
        {
            var missing = string.Join(", ", stopping.Where(p => p.Kind == VariableProblemKind.Missing).Select(p => p.Variable));
            fixes.Add($"Set {missing} in the tfvars: {settings.TfvarsFix}.");
            if (problems.Any(p => p.Kind == VariableProblemKind.Undeclared))
                fixes.Add("A tfvars value the stack does not declare next to a missing one is often a renamed variable: rename it in the tfvars.");
        }
        if (stopping.Any(p => p.Kind == VariableProblemKind.UndeclaredOnCommandLine))
        {
            var passed = string.Join(", ", stopping.Where(p => p.Kind == VariableProblemKind.UndeclaredOnCommandLine).Select(p => p.Variable));
            fixes.Add($"Declare {passed} in the stack (a variable block with a default): the pipeline passes it on every plan.");
        }
        return new BuildFailure(
            $"Terraform did not plan {stack}: the variables it was given do not fit the stack.{System.Environment.NewLine}{string.Join(System.Environment.NewLine, lines)}",
            string.Join(" ", fixes),
            inner);
    }

    /// <summary><c>show -json PLANFILE</c>, kept in the private workspace and summarised (counts and addresses only).</summary>
    public async Task<PlanSummary> ShowPlanAsync(string planFile, CancellationToken cancellationToken)
    {
        await CheckVersionAsync(cancellationToken);
        // Quiet: the JSON holds sensitive values in plain text; it must never reach the log.
        var result = await runner.RunAsync(Command("show", "-json", planFile).AsProbe(), cancellationToken);
        if (result.WasDryRun)
            return new PlanSummary([]);
        Workspace.WriteFile(Path.GetFileName(Workspace.PlanJsonFile), result.StandardOutput);
        return PlanSummary.FromJson(result.StandardOutput);
    }

    /// <summary>
    /// <c>apply PLANFILE</c> for a plan of this run, only when it has changes: exactly that saved plan, nothing re-planned.
    /// A stale plan is explained; Ctrl-C gives Terraform one interrupt, waits for it, and fails saying the state may be
    /// partially applied. Returns whether anything was applied.
    /// </summary>
    public async Task<bool> ApplyAsync(TerraformPlan plan, CancellationToken cancellationToken)
    {
        if (!plan.HasChanges)
        {
            logger.Information("Terraform: the plan has no changes; nothing to apply");
            return false;
        }
        if (plan.IsPreview)
        {
            // A preview plan was made without the state lock: shown, never applied.
            logger.Information("[dry-run] would run: {Command:l}", ApplyCommand(plan.PlanFile).Display);
            return false;
        }
        await CheckVersionAsync(cancellationToken);
        await HoldingLockAsync("apply", ApplyCommand(plan.PlanFile), cancellationToken);
        return true;
    }

    /// <summary>
    /// <c>destroy -auto-approve</c>: the caller has already asked for the typed confirmation. Prefer a destroy plan
    /// (<see cref="PlanOptions.Destroy"/>) shown first and then applied; this is the direct form.
    /// </summary>
    public async Task DestroyAsync(PlanOptions options, CancellationToken cancellationToken)
    {
        await CheckVersionAsync(cancellationToken);
        await HoldingLockAsync("destroy", DestroyCommand(options), cancellationToken);
    }

    /// <summary><c>output -json</c>, parsed; sensitive values are registered as secrets and never logged.</summary>
    public async Task<TerraformOutputs> OutputAsync(CancellationToken cancellationToken)
    {
        await CheckVersionAsync(cancellationToken);
        var result = await runner.RunAsync(Command("output", "-json").AsProbe(), cancellationToken);
        return TerraformOutputs.Parse(result.WasDryRun ? "{}" : result.StandardOutput);
    }

    /// <summary><c>state list</c>: the addresses in the state.</summary>
    public async Task<IReadOnlyList<string>> StateListAsync(CancellationToken cancellationToken)
    {
        await CheckVersionAsync(cancellationToken);
        var result = await runner.RunAsync(StateCommand("list").AsProbe(), cancellationToken);
        return [.. result.Output.Where(l => !l.IsError).Select(l => l.Text.Trim()).Where(l => l.Length > 0)];
    }

    /// <summary><c>state show ADDRESS</c> (Terraform hides sensitive attributes itself); output streamed and returned.</summary>
    public async Task<string> StateShowAsync(string address, CancellationToken cancellationToken)
    {
        await CheckVersionAsync(cancellationToken);
        var result = await runner.RunAsync(StateCommand("show", address) with { CaptureOutput = true, IsReadOnly = true }, cancellationToken);
        return result.StandardOutput;
    }

    /// <summary><c>state rm ADDRESS…</c>: forgets resources without destroying them; takes the state lock.</summary>
    public async Task StateRemoveAsync(IReadOnlyList<string> addresses, CancellationToken cancellationToken)
    {
        if (addresses.Count == 0)
            throw new UsageException("state rm needs at least one resource address.", "Give the addresses to remove, e.g. module.eks.aws_eks_addon.coredns.");
        await CheckVersionAsync(cancellationToken);
        await HoldingLockAsync("state rm", StateCommand("rm", [.. LockFlags(), .. addresses]), cancellationToken);
    }

    public void Dispose()
    {
        if (_workspace.IsValueCreated)
            _workspace.Value.Dispose();
    }

    private async Task HoldingLockAsync(string operation, ToolCommand command, CancellationToken cancellationToken)
    {
        try
        {
            await TerraformFailures.ExplainingAsync(() => runner.RunAsync(command, cancellationToken), settings);
        }
        catch (OperationCanceledException cancelled) when (cancellationToken.IsCancellationRequested)
        {
            throw TerraformFailures.Interrupted(operation, settings, cancelled);
        }
    }

    private void RequireBackendFile(string backendConfigFile)
    {
        if (!File.Exists(backendConfigFile))
        {
            throw new BuildFailure($"Backend configuration not found: {backendConfigFile}.",
                "Create it (bucket, key, region, encrypt = true, use_lockfile = true) or regenerate the committed backend files.");
        }
    }

    internal ToolCommand InitCommand(string backendConfigFile) =>
        Command("init", ["-input=false", .. ColorFlags(), .. LockFlags(), "-reconfigure", "-backend-config=" + Path.GetFullPath(backendConfigFile)]);

    // A plan changes no infrastructure: a preview runs it (without the lock). Its output is kept for its diagnostics.
    internal ToolCommand PlanCommand(PlanOptions options, string planFile) =>
        Command("plan", ["-input=false", .. ColorFlags(), .. (settings.Preview ? ["-lock=false"] : LockFlags()), .. Targeting(options), "-detailed-exitcode", "-out=" + planFile])
            with
        { AllowedExitCodes = [0, 2], WaitForExitOnCancel = true, CaptureOutput = true, IsReadOnly = settings.Preview };

    internal ToolCommand ApplyCommand(string planFile) =>
        Command("apply", ["-input=false", .. ColorFlags(), .. LockFlags(), Path.GetFullPath(planFile)]) with { WaitForExitOnCancel = true };

    internal ToolCommand DestroyCommand(PlanOptions options) =>
        Command("destroy", ["-input=false", .. ColorFlags(), .. LockFlags(), .. Targeting(options with { Destroy = false }), "-auto-approve"])
            with
        { WaitForExitOnCancel = true };

    private ToolCommand StateCommand(string subcommand, params IEnumerable<string> arguments) =>
        Command("state", [subcommand, .. ColorFlags(), .. arguments]);

    private ToolCommand Command(string subcommand, params IEnumerable<string> arguments) =>
        InStack(new ToolCommand(settings.Executable, [subcommand, .. arguments]));

    private ToolCommand InStack(ToolCommand command)
    {
        command = command.WithWorkingDirectory(settings.StackDirectory).Prefixed(settings.LogPrefix);
        return settings.InCi ? command.WithEnvironment("TF_IN_AUTOMATION", "1") : command;
    }

    private IEnumerable<string> ColorFlags() => settings.InCi ? ["-no-color"] : [];

    private IEnumerable<string> LockFlags() => settings.LockTimeout is { } timeout
        ? ["-lock-timeout=" + ((long)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s"]
        : [];

    private static IEnumerable<string> Targeting(PlanOptions options)
    {
        if (options.Destroy)
            yield return "-destroy";
        if (options.VarFile is { } varFile)
            yield return "-var-file=" + Path.GetFullPath(varFile);
        // After the file: the last value Terraform reads wins.
        foreach (var (name, value) in options.Variables.OrderBy(v => v.Key, StringComparer.Ordinal))
            yield return $"-var={name}={value}";
        foreach (var target in options.Targets)
            yield return "-target=" + target;
    }
}
