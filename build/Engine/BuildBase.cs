using System.Collections;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Serilog;
using Spectre.Console;
using Tesslate.Build.Engine.Processes;

namespace Tesslate.Build.Engine;

/// <summary>
/// The base of a build class: global options, the run's services (logger, process runner, report, cleanup,
/// approvals) and the lifecycle: bind parameters → build the graph → --help/--plan → plan → check requirements →
/// run → clean up → summary and report. <see cref="Execute"/> is the program's entry point.
/// </summary>
public abstract class BuildBase
{
    [Parameter("Show targets and parameters, then exit.")]
    protected readonly bool Help;

    [Parameter("Show the execution plan for the requested targets (order, what runs side by side, what is skipped and why), then exit.")]
    protected readonly bool Plan;

    [Parameter("Skip these targets (their dependencies too, unless something else needs them); alone: skip every target not named.", EmptyListMeansSomething = true)]
    protected readonly string[]? Skip;

    [Parameter("Run read-only probes only; print every command and API call that would change something.")]
    protected readonly bool DryRun;

    [Parameter("How much to print.")]
    protected readonly Verbosity Verbosity = Verbosity.Normal;

    [Parameter("Load .nuke/parameters.<profile>.json on top of .nuke/parameters.json (later profiles win).")]
    protected readonly string[] Profile = [];

    [Parameter("The repository root (default: the nearest folder above the working directory that has .nuke/).")]
    protected readonly string? Root;

    [Parameter("Run at most this many targets at once (default: as many as the graph allows).", Positive = true)]
    protected readonly int? MaxParallel;

    [Parameter("Run targets one at a time in plan order.")]
    protected readonly bool NoParallel;

    private LogSetup? _logging;

    /// <summary>Prefix of every parameter's environment variable, e.g. <c>TESSLATE_</c>.</summary>
    protected virtual string EnvironmentPrefix => "BUILD_";

    protected virtual IReadOnlyList<string> DefaultTargets => [];

    /// <summary>Parameters (member names) whose values are paths: in .nuke/parameters*.json relative to the repository root, elsewhere to the working directory.</summary>
    protected virtual IReadOnlyCollection<string> PathParameters => [];

    protected virtual string Usage => "./build.sh [targets] [--option value ...]";

    /// <summary>An approval given up front (e.g. an --approve parameter after a CI environment's reviewers approved).</summary>
    protected virtual bool ApprovedUpFront => false;

    public string RootDirectory { get; private set; } = Directory.GetCurrentDirectory();

    public string NukeDirectory => Path.Combine(RootDirectory, ".nuke");

    public string TemporaryDirectory => Path.Combine(NukeDirectory, "temp");

    public bool IsDryRun => DryRun;

    public bool IsInteractive { get; private set; }

    private TextReader? _terminal;

    /// <summary>The run's logger. --plan makes it on first use (usually never: nothing logs while planning); before the parameters are bound it is the silent logger.</summary>
    public ILogger Log => _logging?.Logger ?? (_startLogging is null ? Serilog.Core.Logger.None : StartLogging().Logger);

    private Func<LogSetup>? _startLogging;
    private readonly Lock _loggingGate = new();

    private LogSetup StartLogging()
    {
        lock (_loggingGate)
            return _logging ??= _startLogging!();
    }

    public IProcessRunner Runner => _runner ??= _createRunner!();

    private IProcessRunner? _runner;
    private Func<IProcessRunner>? _createRunner;

    public RunReport Report { get; } = new();

    public RunCleanup Cleanup { get; } = new();

    public Approvals Approvals { get; private set; } = null!;

    /// <summary>Typed confirmations that no flag gives (e.g. 'destroy beta'): asked even with an up-front approval.</summary>
    public Approvals Confirmations { get; private set; } = null!;

    public GitHubActionsHost? GitHubActions { get; private set; }

    public IReadOnlyDictionary<string, string> EnvironmentVariables { get; private set; } = new Dictionary<string, string>();

    public bool IsCI => EnvironmentVariables.GetValueOrDefault("CI") is "true" or "1" || GitHubActions is not null;

    public TargetGraph Graph { get; private set; } = null!;

    public ExecutionPlan? ExecutionPlan { get; private set; }

    public IReadOnlyList<ParameterDescriptor> Parameters { get; private set; } = [];

    /// <summary>Where each parameter's value came from (member name → source); unset ones used their default.</summary>
    public IReadOnlyDictionary<string, ParameterSource> ParameterSources { get; private set; } = new Dictionary<string, ParameterSource>();

    /// <summary>
    /// For a live display that owns the terminal: other targets' console lines wait until it is disposed (the log
    /// file gets them at once), so nothing tears the display.
    /// </summary>
    public IDisposable HoldConsole() => _logging?.HoldConsole() ?? NoHold.Instance;

    private sealed class NoHold : IDisposable
    {
        public static readonly NoHold Instance = new();

        public void Dispose()
        {
        }
    }

    /// <summary>Adds a line under the current target in the summary and the report.</summary>
    public static void Note(string detail) => Scheduler.Current?.Details.Add(Secrets.Redact(detail));

    /// <summary>Checks that need parameters (and can fail with a usage error) before planning.</summary>
    protected virtual void OnParametersBound()
    {
    }

    /// <summary>Checks of parameter values that depend on which targets will run (<see cref="ExecutionPlan"/> is set); usage errors stop the run before anything starts.</summary>
    protected virtual void OnPlanned()
    {
    }

    /// <summary>Services for targets (clients, adapters), created after parameters are bound and logging is up.</summary>
    protected virtual void OnRunStarting()
    {
    }

    /// <summary>Requirements derived from a target's facts; checked with its declared ones, before anything runs.</summary>
    protected virtual IEnumerable<Requirement> RequirementsOf(BuildTarget target) => [];

    /// <summary>Work derived from a target's facts that runs right before its actions (and fails the target when it fails).</summary>
    protected virtual Task BeforeTargetAsync(BuildTarget target, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <param name="create">Makes the build (<c>() => new Build()</c>): a constructor call, not the reflection behind <c>new T()</c>.</param>
    public static async Task<int> Execute(string[] args, Func<BuildBase> create)
    {
        Console.OutputEncoding = System.Text.Encoding.UTF8;
        using var interrupt = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (!interrupt.IsCancellationRequested)
            {
                Console.Error.WriteLine("Interrupt received: stopping running targets gracefully, then cleaning up.");
                interrupt.Cancel();
            }
            else
            {
                Console.Error.WriteLine("Still stopping: running targets and the cleanup are finishing (Terraform is waited for, so its state lock is released).");
            }
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var environment = new Dictionary<string, string>(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        foreach (DictionaryEntry variable in System.Environment.GetEnvironmentVariables())
            environment[(string)variable.Key] = (string?)variable.Value ?? "";
        return await create().RunAsync(args, environment, output: null, interrupt.Token);
    }

    /// <summary>One run of the build with explicit inputs (tests call this directly; <paramref name="terminal"/> answers prompts as if typed).</summary>
    public async Task<int> RunAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, TextWriter? output = null, CancellationToken interrupt = default, TextReader? terminal = null)
    {
        var stopwatch = Stopwatch.StartNew();
        EnvironmentVariables = environment;
        _terminal = terminal;
        Secrets.BeginScope();
        int exitCode;
        try
        {
            exitCode = await RunCoreAsync(args, environment, output, interrupt, stopwatch);
        }
        catch (BuildFailure failure)
        {
            WriteFailure(failure.Problem, failure.Fix, failure, output);
            exitCode = failure.ExitCode;
        }
        catch (Exception unexpected)
        {
            // A bug outside any target: one line, not a crash; the stack trace goes to the log file (and with --verbosity verbose, the console).
            var where = _logging?.LogFile is { } file ? $"the stack trace is in {file}" : "--verbosity verbose shows the stack trace";
            WriteFailure($"{unexpected.GetType().Name}: {unexpected.Message} (a bug in the build; {where})", null, unexpected, output);
            exitCode = ExitCodes.TargetFailed;
        }
        finally
        {
            // Normally done before the summary; this covers a failure outside the targets.
            // Nothing registered (--help, --plan): no logger is made just to run no cleanup.
            if (Cleanup.HasWork)
                await Cleanup.RunAsync(Log);
            _logging?.Dispose();
        }
        return exitCode;
    }

    private async Task<int> RunCoreAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment, TextWriter? output, CancellationToken interrupt, Stopwatch stopwatch)
    {
        GitHubActions = GitHubActionsHost.Detect(environment, output ?? Console.Out);
        if (GitHubActions is { } github)
            Secrets.Current.Registered += github.Mask;

        var commandLine = CommandLine.Parse(args);
        var binder = new ParameterBinder(this, EnvironmentPrefix, PathParameters);
        Parameters = binder.Parameters;
        RootDirectory = FindRoot(commandLine, environment);
        binder.Bind(commandLine, environment, NukeDirectory, PreResolve(binder, commandLine, environment, "profile"));
        ParameterSources = binder.Sources;

        // Help needs no logging, runner or prompts: it is printed before they exist.
        Graph = TargetGraph.Create(this);
        if (Help)
        {
            var (globals, own) = SplitParameters();
            ConsoleWriters.WriteHelp(PlainText.For(output), Usage, Graph, DefaultTargets, own, globals);
            return ExitCodes.Success;
        }

        IsInteractive = output is null ? !Console.IsInputRedirected && !IsCI : _terminal is not null;
        var logFile = Plan ? null : Path.Combine(TemporaryDirectory, "build.log");
        _startLogging = () => LogSetup.Create(Verbosity, GitHubActions, logFile, output);
        var ownProcessGroups = environment.GetValueOrDefault(EnvironmentPrefix + "NO_PROCESS_GROUP") != "1";
        _createRunner = () => new ProcessRunner(Log, DryRun, ownProcessGroups);
        // A run logs from here on (a usage error below is in build.log too); --plan only if something logs.
        if (!Plan)
            StartLogging();

        OnParametersBound();
        var plan = ExecutionPlanner.Plan(Graph, commandLine.Targets, DefaultTargets, Skip);
        ExecutionPlan = plan;
        OnPlanned();
        var unmet = ExecutionPlanner.UnmetRequirements(plan, DescribeMember, RequirementsOf);
        var options = new SchedulerOptions { MaxParallel = MaxParallel, NoParallel = NoParallel, DryRun = DryRun };
        if (Plan)
        {
            ConsoleWriters.WritePlan(PlainText.For(output), plan, unmet, options);
            return unmet.Count == 0 ? ExitCodes.Success : ExitCodes.Usage;
        }
        if (unmet.Count > 0)
            throw new UsageException(string.Join(System.Environment.NewLine, unmet), ExecutionPlanner.UnmetFix(plan, RequirementsOf) ?? "Pass the missing values (see ./build.sh --help), or --skip the target that needs them.");
        return await RunTargetsAsync(args, plan, options, output, interrupt, stopwatch);
    }

    // Its own method: the state machine of the method above is prepared for --help and --plan too, and with the
    // run's locals (logger, scheduler) in it the runtime would load Serilog for them (docs/bootstrap.md, "Start").
    private async Task<int> RunTargetsAsync(IReadOnlyList<string> args, ExecutionPlan plan, SchedulerOptions options, TextWriter? output, CancellationToken interrupt, Stopwatch stopwatch)
    {
        var logging = StartLogging();
        _runner ??= _createRunner!();
        // Prompts read the terminal (Console.In sets it up): only a run that may ask makes them, not --plan.
        Approvals = output is null ? Approvals.FromConsole(ApprovedUpFront) : new Approvals(ApprovedUpFront, _terminal ?? TextReader.Null, output, IsInteractive);
        Confirmations = new Approvals(false, output is null ? Console.In : _terminal ?? TextReader.Null, output ?? Console.Out, IsInteractive);
        OnRunStarting();
        foreach (var kept in plan.Targets.Where(t => t.Status == TargetStatus.Scheduled && t.Note is not null))
            Log.Warning("{Target} {Note}", kept.Name, kept.Note);
        var observer = new TargetLogObserver(Log, logging);
        var scheduler = new Scheduler(plan, options, Log, observer, BeforeTargetAsync);
        try
        {
            await scheduler.RunAsync(interrupt);
        }
        finally
        {
            await Cleanup.RunAsync(Log);
        }

        var exitCode = scheduler.Interrupted ? ExitCodes.Interrupted
            : plan.Targets.Any(t => t.Status is TargetStatus.Failed or TargetStatus.NotRun or TargetStatus.Aborted or TargetStatus.AwaitingApproval) ? ExitCodes.TargetFailed
            : ExitCodes.Success;
        var outcome = Outcome(exitCode, plan);
        logging.Logger.Dispose();
        var console = ConsoleWriters.CreateConsole(output);
        ConsoleWriters.WriteSummary(console, plan, outcome, stopwatch.Elapsed);
        foreach (var partial in plan.Targets.Where(t => t.Status == TargetStatus.Aborted))
            console.MarkupLine($"[yellow]{Markup.Escape($"{partial.Name} was interrupted: {partial.Note}")}[/]");
        var json = Report.ToJson(plan, exitCode, args, DryRun, logging.Problems.Select(p => $"{p.Level}: {(p.Target is null ? "" : $"[{p.Target}] ")}{p.Message}"));
        await Report.WriteAsync(Path.Combine(TemporaryDirectory, "run-report.json"), json);
        GitHubActions?.AppendStepSummary(Report.ToMarkdown(plan, outcome));
        return exitCode;
    }

    private static string Outcome(int exitCode, ExecutionPlan plan) => exitCode switch
    {
        ExitCodes.Success => $"Build succeeded on {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss}.",
        ExitCodes.Interrupted => "Build interrupted. Targets marked Aborted may have left partial work (see their notes).",
        _ when plan.Targets.Any(t => t.Status == TargetStatus.AwaitingApproval) => "Build stopped: awaiting approval. Nothing after the release plan ran.",
        _ => $"Build failed: {string.Join(", ", plan.Targets.Where(t => t.Status == TargetStatus.Failed).Select(t => t.Name))}.",
    };

    private void WriteFailure(string problem, string? fix, Exception exception, TextWriter? output)
    {
        // Redacted again: a secret may have been registered after the exception was created.
        problem = Secrets.Redact(problem);
        fix = fix is null ? null : Secrets.Redact(fix);
        var writer = output ?? Console.Error;
        writer.WriteLine($"error: {problem}");
        if (fix is not null)
            writer.WriteLine($"  fix: {fix}");
        var detail = Secrets.Redact(exception.ToString());
        if (Verbosity == Verbosity.Verbose)
            writer.WriteLine(detail);
        _logging?.WriteToFile($"error: {problem}{(fix is null ? "" : $"{System.Environment.NewLine}  fix: {fix}")}{System.Environment.NewLine}{detail}");
        GitHubActions?.Annotate("error", null, fix is null ? problem : $"{problem}\n{fix}");
    }

    private (IReadOnlyList<ParameterDescriptor> Globals, IReadOnlyList<ParameterDescriptor> Own) SplitParameters() =>
        ([.. Parameters.Where(p => p.Member.DeclaringType == typeof(BuildBase))], [.. Parameters.Where(p => p.Member.DeclaringType != typeof(BuildBase))]);

    private string DescribeMember(string member)
    {
        var parameter = Parameters.FirstOrDefault(p => string.Equals(p.MemberName, member, StringComparison.OrdinalIgnoreCase));
        return parameter is null ? $"'{member}'" : $"{parameter.Flag} (or {parameter.EnvironmentVariable}, or \"{parameter.MemberName}\" in .nuke/parameters.json)";
    }

    // --root and --profile decide which files are read, so they are looked at before the files are.
    private List<string> PreResolve(ParameterBinder binder, CommandLine commandLine, IReadOnlyDictionary<string, string> environment, string name)
    {
        var parameter = binder.Find(name)!;
        if (commandLine.LastValues(given => binder.Find(given) == parameter) is { } fromCli)
            return fromCli.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
        return environment.TryGetValue(parameter.EnvironmentVariable, out var value) ? [.. value.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries)] : [];
    }

    private string FindRoot(CommandLine commandLine, IReadOnlyDictionary<string, string> environment)
    {
        if (commandLine.LastValues(name => name == "root") is { } given)
            return CheckRoot(given.Count == 0 ? Directory.GetCurrentDirectory() : Path.GetFullPath(given[0]), "--root");
        if (environment.GetValueOrDefault(EnvironmentPrefix + "ROOT") is { Length: > 0 } fromEnvironment)
            return CheckRoot(Path.GetFullPath(fromEnvironment), EnvironmentPrefix + "ROOT");
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (Directory.Exists(Path.Combine(directory.FullName, ".nuke")))
                    return directory.FullName;
            }
        }
        throw new UsageException("Could not find the repository root: no folder above the working directory has a .nuke/ folder.", "Run from inside the repository, or pass --root <path>.");
    }

    // A mistyped root must not become a fresh folder with a log in it.
    private static string CheckRoot(string root, string source)
    {
        const string fix = "Pass the repository root (the folder with .nuke/), or leave --root out to use the nearest one above the working directory.";
        if (!Directory.Exists(root))
            throw new UsageException($"{source} {root} does not exist.", fix);
        if (!Directory.Exists(Path.Combine(root, ".nuke")))
            throw new UsageException($"{source} {root} has no .nuke/ folder, so it is not a repository root.", fix);
        return root;
    }

    /// <summary>Target headers on the console; on GitHub Actions, each target's buffered output as one group.</summary>
    private sealed class TargetLogObserver(ILogger log, LogSetup logging) : ITargetObserver
    {
        public void Started(PlannedTarget target) => log.Information("▶ {Target}", target.Name);

        public void Finished(PlannedTarget target)
        {
            logging.FlushTarget(target);
            var detail = target.Note is null ? "" : $" — {target.Note}";
            switch (target.Status)
            {
                case TargetStatus.Succeeded:
                    log.Information("✔ {Target} ({Duration}){Detail}", target.Name, Durations.Format(target.Duration), detail);
                    break;
                case TargetStatus.Skipped:
                    log.Information("↷ {Target} skipped{Detail}", target.Name, detail);
                    break;
                case TargetStatus.Failed:
                    // The failure itself was logged (and annotated) once already.
                    log.ForContext(LogSetup.Repeats, true).Warning("✘ {Target} {Status}{Detail}", target.Name, target.Status, detail);
                    break;
                default:
                    log.Warning("✘ {Target} {Status}{Detail}", target.Name, target.Status, detail);
                    break;
            }
        }
    }
}
