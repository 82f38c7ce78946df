using System.Text;
using System.Text.RegularExpressions;

namespace Tesslate.Build.Terraform;

public enum DiagnosticSeverity
{
    Warning,
    Error,
}

/// <summary>One diagnostic of Terraform's human output: severity, summary, the "on FILE line N" subject and the detail.</summary>
public sealed record TerraformDiagnostic(DiagnosticSeverity Severity, string Summary, string? Subject, string Detail);

public enum VariableProblemKind
{
    /// <summary>The tfvars set a variable the stack does not declare: Terraform ignores the value (a warning).</summary>
    Undeclared,
    /// <summary>The stack declares a variable without a default and nothing sets it: no plan (an error).</summary>
    Missing,
    /// <summary>A <c>-var</c> the pipeline passes names a variable the stack does not declare: no plan (an error).</summary>
    UndeclaredOnCommandLine,
}

/// <summary>A problem with the variables a plan was given, named: which variable, where, and what it means.</summary>
public sealed record VariableProblem(VariableProblemKind Kind, string Variable, string? Where = null)
{
    public bool StopsThePlan => Kind != VariableProblemKind.Undeclared;

    public string Describe() => Kind switch
    {
        VariableProblemKind.Undeclared => $"the tfvars set '{Variable}', which the stack does not declare: Terraform ignores that value",
        VariableProblemKind.Missing => $"'{Variable}' has no default{(Where is null ? "" : $" ({Where})")} and the tfvars do not set it",
        _ => $"the pipeline passes -var {Variable}, which the stack does not declare",
    };

    public override string ToString() => Describe();
}

/// <summary>
/// Reads Terraform's diagnostics from its human output, with or without colours: the plain form
/// (<c>Error: Summary</c>, blank line, detail) and the boxed one (<c>╷ │ ╵</c>). Terraform wraps the detail to the
/// terminal's width, so the detail's lines are joined before anything is matched.
/// </summary>
public static partial class TerraformDiagnostics
{
    public static IReadOnlyList<TerraformDiagnostic> Parse(IEnumerable<string> lines)
    {
        var diagnostics = new List<TerraformDiagnostic>();
        DiagnosticSeverity? severity = null;
        string summary = "";
        string? subject = null;
        var detail = new StringBuilder();

        void Flush()
        {
            if (severity is { } found)
                diagnostics.Add(new TerraformDiagnostic(found, summary, subject, Squeeze(detail.ToString())));
            severity = null;
            subject = null;
            detail.Clear();
        }

        foreach (var raw in lines)
        {
            var (text, boxEnd) = Unbox(raw);
            if (boxEnd)
            {
                Flush();
                continue;
            }
            var start = DiagnosticStart().Match(text);
            if (start.Success)
            {
                Flush();
                severity = start.Groups["severity"].Value == "Error" ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning;
                summary = start.Groups["summary"].Value.Trim();
                continue;
            }
            if (severity is null || text.Trim().Length == 0)
                continue;
            var on = SubjectLine().Match(text);
            if (on.Success && subject is null && detail.Length == 0)
            {
                subject = $"{on.Groups["file"].Value} line {on.Groups["line"].Value}";
                continue;
            }
            // The source excerpt under the subject ("   6: variable "x" {") is not detail.
            if (subject is not null && detail.Length == 0 && SourceExcerpt().IsMatch(text))
                continue;
            // Plain output has no box: a line that is clearly Terraform's own progress ends the diagnostic.
            if (!raw.Contains('│') && EndsPlainDiagnostic(text))
            {
                Flush();
                continue;
            }
            detail.Append(text.Trim()).Append(' ');
        }
        Flush();
        return diagnostics;
    }

    /// <summary>The variable problems among the diagnostics; "N other variable(s)" is returned as its count.</summary>
    public static (IReadOnlyList<VariableProblem> Problems, int MoreUndeclared) VariableProblems(IEnumerable<TerraformDiagnostic> diagnostics)
    {
        var problems = new List<VariableProblem>();
        var more = 0;
        foreach (var diagnostic in diagnostics)
        {
            if (diagnostic.Summary == "Value for undeclared variable")
            {
                if (UndeclaredInFile().Match(diagnostic.Detail) is { Success: true } inFile)
                    problems.Add(new VariableProblem(VariableProblemKind.Undeclared, inFile.Groups["name"].Value, inFile.Groups["file"].Value));
                else if (UndeclaredAssigned().Match(diagnostic.Detail) is { Success: true } assigned)
                    problems.Add(new VariableProblem(VariableProblemKind.UndeclaredOnCommandLine, assigned.Groups["name"].Value));
            }
            else if (diagnostic.Summary == "Values for undeclared variables" && OtherUndeclared().Match(diagnostic.Detail) is { Success: true } others)
            {
                more += int.Parse(others.Groups["count"].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (diagnostic.Summary == "No value for required variable" && MissingRequired().Match(diagnostic.Detail) is { Success: true } missing)
            {
                problems.Add(new VariableProblem(VariableProblemKind.Missing, missing.Groups["name"].Value, diagnostic.Subject));
            }
        }
        return (problems.DistinctBy(p => (p.Kind, p.Variable)).ToList(), more);
    }

    /// <summary>
    /// The variables a stack declares (<c>variable "NAME"</c> blocks of its .tf files): Terraform names only two
    /// undeclared tfvars values and counts the rest, and this names the rest.
    /// </summary>
    public static IReadOnlySet<string> DeclaredVariables(string stackDirectory) =>
        StackVariables.Read(stackDirectory).Keys.ToHashSet(StringComparer.Ordinal);

    private static (string Text, bool BoxEnd) Unbox(string line)
    {
        var text = AnsiEscape().Replace(line, string.Empty).TrimEnd();
        var trimmed = text.TrimStart();
        if (trimmed is "╷")
            return (string.Empty, false);
        if (trimmed is "╵")
            return (string.Empty, true);
        if (trimmed.StartsWith('│'))
            return (trimmed[1..].StartsWith(' ') ? trimmed[2..] : trimmed[1..], false);
        return (text, false);
    }

    private static bool EndsPlainDiagnostic(string text) =>
        text.StartsWith("Plan: ", StringComparison.Ordinal) || text.StartsWith("No changes.", StringComparison.Ordinal)
        || text.StartsWith("Terraform will perform", StringComparison.Ordinal) || text.StartsWith("Saved the plan to", StringComparison.Ordinal);

    private static string Squeeze(string text) => Whitespace().Replace(text, " ").Trim();

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();

    [GeneratedRegex(@"^\s*(?<severity>Error|Warning): (?<summary>.+)$")]
    private static partial Regex DiagnosticStart();

    [GeneratedRegex(@"^\s*on (?<file>\S+) line (?<line>\d+)")]
    private static partial Regex SubjectLine();

    [GeneratedRegex(@"^\s*\d+: ")]
    private static partial Regex SourceExcerpt();

    [GeneratedRegex("does not declare a variable named \"(?<name>[^\"]+)\" but a value was found in file \"(?<file>[^\"]+)\"")]
    private static partial Regex UndeclaredInFile();

    [GeneratedRegex("A variable named \"(?<name>[^\"]+)\" was assigned")]
    private static partial Regex UndeclaredAssigned();

    [GeneratedRegex(@"(?<count>\d+) other variable\(s\) defined without being declared")]
    private static partial Regex OtherUndeclared();

    [GeneratedRegex("input variable \"(?<name>[^\"]+)\" is not set, and has no default value")]
    private static partial Regex MissingRequired();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
