using Spectre.Console;

namespace Tesslate.Build.Engine;

/// <summary>
/// --help and --plan as plain text (<see cref="PlainText"/>: they are printed on every start, and Spectre.Console's table
/// layout cost most of that start); the end-of-run summary and live displays with Spectre.Console.
/// </summary>
public static class ConsoleWriters
{
    public static IAnsiConsole CreateConsole(TextWriter? output = null)
    {
        var redirected = output is not null || Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected || System.Environment.GetEnvironmentVariable("NO_COLOR") is not null ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Out = new AnsiConsoleOutput(output ?? Console.Out),
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
            console.Profile.Width = 160;
        return console;
    }

    public static void WriteHelp(PlainText text, string usage, TargetGraph graph, IReadOnlyList<string> defaultTargets, IReadOnlyList<ParameterDescriptor> parameters, IReadOnlyList<ParameterDescriptor> globalParameters)
    {
        text.Line($"{text.Bold("Usage:")} {usage}");
        text.Line();
        var targets = new List<PlainText.Row>();
        foreach (var target in graph.Targets)
        {
            var isDefault = defaultTargets.Contains(target.Name, StringComparer.OrdinalIgnoreCase);
            var dependencies = target.Dependencies.Count == 0 ? null : $"-> {string.Join(", ", target.Dependencies.Select(d => d.Name))}";
            targets.Add(new PlainText.Row("  " + target.Name, isDefault ? "(default)" : null, target.Description ?? "", dependencies));
        }
        text.Line($"{text.Bold("Targets")} (with their direct dependencies):");
        text.Table(targets);
        text.Line();
        WriteParameters(text, "Parameters:", parameters);
        WriteParameters(text, "Global options:", globalParameters);
        text.Wrapped("Values come from, highest first: the command line, the environment variable shown, .nuke/parameters.<profile>.json (--profile), .nuke/parameters.json, the default.", PlainText.Style.Grey);
        text.Wrapped("Exit codes: 0 success, 1 a target failed (or awaits approval), 2 usage error, 130 interrupted.", PlainText.Style.Grey);
    }

    private static void WriteParameters(PlainText text, string title, IReadOnlyList<ParameterDescriptor> parameters)
    {
        var rows = new List<PlainText.Row>();
        foreach (var parameter in parameters.Where(p => !p.Attribute.Unlisted))
        {
            var flag = $"  {parameter.Flag}" + (parameter.IsFlag ? "" : $" <{parameter.TypeName}>");
            var facts = new List<string>();
            if (parameter.DisplayDefault is { Length: > 0 } shown && !(parameter.IsFlag && shown == "false"))
                facts.Add($"default: {shown}");
            facts.Add($"env: {parameter.EnvironmentVariable}");
            if (parameter.IsSecret)
                facts.Add("secret");
            rows.Add(new PlainText.Row(flag, null, parameter.Description, string.Join("; ", facts)));
        }
        text.Line(text.Bold(title));
        text.Table(rows);
        text.Line();
    }

    public static void WritePlan(PlainText text, ExecutionPlan plan, IReadOnlyList<string> unmetRequirements, SchedulerOptions options)
    {
        text.Line(text.Bold("Execution plan") + (options.DryRun ? " (dry-run)" : "") + (options.NoParallel ? " — strict order, one at a time" : options.MaxParallel is { } max ? $" — at most {max} at once" : ""));
        // One at a time, the scheduler runs the plan's order (every target's predecessors come before it).
        var oneAtATime = options.NoParallel || options.MaxParallel == 1;
        var waves = oneAtATime ? [.. plan.Targets.Where(t => t.Status != TargetStatus.Skipped).Select(t => (IReadOnlyList<PlannedTarget>)[t])] : plan.Waves();
        var number = 0;
        foreach (var wave in waves)
        {
            number++;
            var together = wave.Count > 1 ? " " + text.Grey("(side by side)") : "";
            text.Line($"  {number}. {string.Join(", ", wave.Select(t => t.Name + (t.Invoked ? text.Green("*") : "")))}{together}");
        }
        var skipped = plan.Targets.Where(t => t.Status == TargetStatus.Skipped).ToList();
        if (skipped.Count > 0)
        {
            text.Line(text.Bold("Skipped"));
            foreach (var target in skipped)
                text.Line($"  {target.Name} {text.Grey($"— {target.Note}")}");
        }
        foreach (var kept in plan.Targets.Where(t => t.Status == TargetStatus.Scheduled && t.Note is not null))
            text.Line($"{text.Yellow(kept.Name)} {text.Grey($"— {kept.Note}")}");
        foreach (var problem in unmetRequirements)
            text.Line($"{text.Red("Unmet:")} {problem}");
        text.Line(text.Grey("* invoked. Targets on one line wait only for lines above them."));
    }

    public static void WriteSummary(IAnsiConsole console, ExecutionPlan plan, string outcome, TimeSpan total)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("Target").AddColumn("Status").AddColumn(new TableColumn("Duration").RightAligned()).AddColumn("Note");
        foreach (var target in plan.Targets)
        {
            var color = target.Status switch
            {
                TargetStatus.Succeeded => "green",
                TargetStatus.Failed or TargetStatus.Aborted => "red",
                TargetStatus.NotRun or TargetStatus.AwaitingApproval => "yellow",
                _ => "grey",
            };
            table.AddRow(
                Markup.Escape(target.Name),
                $"[{color}]{target.Status}[/]",
                target.Status is TargetStatus.Succeeded or TargetStatus.Failed or TargetStatus.Aborted ? Durations.Format(target.Duration) : "",
                Markup.Escape(Secrets.Redact(target.Note ?? "")));
            foreach (var detail in target.Details)
                table.AddRow("", "", "", $"[grey]{Markup.Escape(Secrets.Redact(detail))}[/]");
        }
        table.AddRow("[bold]Total[/]", "", Durations.Format(total), "");
        console.Write(table);
        console.MarkupLine(Markup.Escape(outcome));
    }
}
