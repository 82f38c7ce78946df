using Spectre.Console;

namespace Tesslate.Build.Engine;

/// <summary>--help, --plan and the end-of-run summary, rendered with Spectre.Console.</summary>
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

    public static void WriteHelp(IAnsiConsole console, string usage, TargetGraph graph, IReadOnlyList<string> defaultTargets, IReadOnlyList<ParameterDescriptor> parameters, IReadOnlyList<ParameterDescriptor> globalParameters)
    {
        console.MarkupLine($"[bold]Usage:[/] {Markup.Escape(usage)}");
        console.WriteLine();
        var targets = new Table().NoBorder().HideHeaders().AddColumn("Target").AddColumn("Description");
        foreach (var target in graph.Targets)
        {
            var name = Markup.Escape(target.Name) + (defaultTargets.Contains(target.Name, StringComparer.OrdinalIgnoreCase) ? " [green](default)[/]" : "");
            var dependencies = target.Dependencies.Count == 0 ? "" : $"\n[grey]-> {Markup.Escape(string.Join(", ", target.Dependencies.Select(d => d.Name)))}[/]";
            targets.AddRow(new Markup("  " + name), new Markup(Markup.Escape(target.Description ?? "") + dependencies));
        }
        console.MarkupLine("[bold]Targets[/] (with their direct dependencies):");
        console.Write(targets);
        console.WriteLine();
        WriteParameters(console, "Parameters:", parameters);
        WriteParameters(console, "Global options:", globalParameters);
        console.MarkupLine("[grey]Values come from, highest first: the command line, the environment variable shown, .nuke/parameters.<profile>.json (--profile), .nuke/parameters.json, the default.[/]");
        console.MarkupLine("[grey]Exit codes: 0 success, 1 a target failed (or awaits approval), 2 usage error, 130 interrupted.[/]");
    }

    private static void WriteParameters(IAnsiConsole console, string title, IReadOnlyList<ParameterDescriptor> parameters)
    {
        var table = new Table().NoBorder().HideHeaders().AddColumn("Flag").AddColumn("Description");
        foreach (var parameter in parameters.Where(p => !p.Attribute.Unlisted))
        {
            var flag = $"  {parameter.Flag}" + (parameter.IsFlag ? "" : $" <{parameter.TypeName}>");
            var facts = new List<string>();
            if (parameter.DisplayDefault is { Length: > 0 } shown && !(parameter.IsFlag && shown == "false"))
                facts.Add($"default: {shown}");
            facts.Add($"env: {parameter.EnvironmentVariable}");
            if (parameter.IsSecret)
                facts.Add("secret");
            table.AddRow(new Markup(Markup.Escape(flag)), new Markup($"{Markup.Escape(parameter.Description)}\n[grey]{Markup.Escape(string.Join("; ", facts))}[/]"));
        }
        console.MarkupLine($"[bold]{title}[/]");
        console.Write(table);
        console.WriteLine();
    }

    public static void WritePlan(IAnsiConsole console, ExecutionPlan plan, IReadOnlyList<string> unmetRequirements, SchedulerOptions options)
    {
        console.MarkupLine("[bold]Execution plan[/]" + (options.DryRun ? " (dry-run)" : "") + (options.NoParallel ? " — strict order, one at a time" : options.MaxParallel is { } max ? $" — at most {max} at once" : ""));
        // One at a time, the scheduler runs the plan's order (every target's predecessors come before it).
        var oneAtATime = options.NoParallel || options.MaxParallel == 1;
        var waves = oneAtATime ? [.. plan.Targets.Where(t => t.Status != TargetStatus.Skipped).Select(t => (IReadOnlyList<PlannedTarget>)[t])] : plan.Waves();
        var number = 0;
        foreach (var wave in waves)
        {
            number++;
            var together = wave.Count > 1 ? " [grey](side by side)[/]" : "";
            console.MarkupLine($"  {number}. {string.Join(", ", wave.Select(t => Markup.Escape(t.Name) + (t.Invoked ? "[green]*[/]" : "")))}{together}");
        }
        var skipped = plan.Targets.Where(t => t.Status == TargetStatus.Skipped).ToList();
        if (skipped.Count > 0)
        {
            console.MarkupLine("[bold]Skipped[/]");
            foreach (var target in skipped)
                console.MarkupLine($"  {Markup.Escape(target.Name)} [grey]— {Markup.Escape(target.Note ?? "")}[/]");
        }
        foreach (var kept in plan.Targets.Where(t => t.Status == TargetStatus.Scheduled && t.Note is not null))
            console.MarkupLine($"[yellow]{Markup.Escape(kept.Name)}[/] [grey]— {Markup.Escape(kept.Note!)}[/]");
        foreach (var problem in unmetRequirements)
            console.MarkupLine($"[red]Unmet:[/] {Markup.Escape(problem)}");
        console.MarkupLine("[grey]* invoked. Targets on one line wait only for lines above them.[/]");
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
