using System.Globalization;
using Tesslate.Build.Engine.Workflows;
using Tesslate.Build.Platform;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Tesslate.Build.Tests.GitHub;

/// <summary>
/// The YAML read back by YamlDotNet's parser is the declaration: same keys in the same order, and every scalar of the
/// same type (a string that looks like a bool or a number stays a string). GitHub's parser checks the schema; this
/// checks that what it reads is what was declared.
/// </summary>
public sealed class WorkflowRoundTripTests
{
    public static TheoryData<string> Files => ["ci.yml", "deploy.yml"];

    [Theory]
    [MemberData(nameof(Files))]
    public void A_generated_workflow_reads_back_as_its_declaration(string fileName)
    {
        var workflow = PipelineWorkflows.All(new WorkflowSettings(), BuildParameters.DeployInputs).Single(w => w.FileName == fileName);
        AssertSame(WorkflowTree.Of(workflow), WorkflowTree.Parse(WorkflowYamlWriter.Write(workflow, PipelineWorkflows.Header)), fileName);
    }

    [Fact]
    public void Scalars_that_look_like_other_types_and_multi_line_text_read_back_unchanged()
    {
        string[] awkward = ["true", "False", "yes", "on", "null", "~", "", "0", "1.5", "0x1F", "1e3", "- item", "key: value", "# not a comment", "'quoted'", "\"double\"", "${{ inputs.x }}", "  padded  ", "a\nb", "tail\n\n"];
        var env = awkward.Select((value, i) => (Key: $"V{i}", value)).ToDictionary(p => p.Key, p => p.value);
        var workflow = new Workflow("awkward.yml", "on")
        {
            On = new WorkflowTriggers
            {
                WorkflowDispatch = new WorkflowDispatchTrigger(
                    WorkflowInput.String("text", "yes", "no"),
                    WorkflowInput.Number("count", "How many", 2.5),
                    WorkflowInput.Boolean("flag", "true", defaultValue: true),
                    WorkflowInput.Choice("pick", "Pick", ["on", "off", "1"], "1")),
                Schedules = ["0 3 * * 1"],
            },
            Env = env,
            DefaultShell = "bash",
            Jobs =
            [
                new Job("one")
                {
                    RunsOn = ["self-hosted", "linux"],
                    Strategy = new JobStrategy { Matrix = new Dictionary<string, IReadOnlyList<string>> { ["version"] = ["1.0", "true", "x"] }, MaxParallel = 2, FailFast = false },
                    Outputs = new Dictionary<string, string> { ["digest"] = "${{ steps.build.outputs.digest }}" },
                    Steps = [Step.Script("multi", "echo one\necho 'two: three'\r\n") with { Id = "build", ContinueOnError = true, TimeoutMinutes = 5, Shell = "bash" }],
                },
                new Job("two") { Needs = ["one"], If = "always()", Steps = [new Step { Uses = "./local-action", With = env }] },
            ],
        };
        Assert.Empty(WorkflowValidator.Problems(workflow));
        AssertSame(WorkflowTree.Of(workflow), WorkflowTree.Parse(WorkflowYamlWriter.Write(workflow, PipelineWorkflows.Header)), workflow.FileName);
    }

    [Fact]
    public void The_comparison_sees_a_string_turned_into_a_bool()
    {
        var workflow = PipelineWorkflows.Ci();
        var yaml = WorkflowYamlWriter.Write(workflow, PipelineWorkflows.Header).Replace("DOTNET_NOLOGO: 'true'", "DOTNET_NOLOGO: true", StringComparison.Ordinal);
        var difference = WorkflowTree.FirstDifference(WorkflowTree.Of(workflow), WorkflowTree.Parse(yaml), "");
        Assert.Equal("/env/DOTNET_NOLOGO: expected \"true\" (String), read true (Boolean)", difference);
    }

    private static void AssertSame(object? expected, object? actual, string fileName)
    {
        var difference = WorkflowTree.FirstDifference(expected, actual, "");
        Assert.True(difference is null, $"{fileName}: {difference}");
    }
}

/// <summary>
/// A workflow as plain data: maps are ordered key/value lists, scalars are string, bool or double. <see cref="Of"/>
/// builds it from the model, <see cref="Parse"/> from YAML text (YAML 1.2 core schema, plus the 1.1 words GitHub's
/// older parsers read as bools, so that an unquoted <c>yes</c> is caught).
/// </summary>
internal static class WorkflowTree
{
    private sealed record Map(List<KeyValuePair<string, object?>> Entries);

    private static readonly HashSet<string> Yaml11Words = new(StringComparer.OrdinalIgnoreCase) { "yes", "no", "on", "off", "y", "n" };

    public static object? Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Node(stream.Documents.Single().RootNode);
    }

    private static object? Node(YamlNode node) => node switch
    {
        YamlMappingNode map => new Map([.. map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Node(c.Value)))]),
        YamlSequenceNode list => list.Children.Select(Node).ToList(),
        YamlScalarNode { Style: not YamlDotNet.Core.ScalarStyle.Plain } scalar => scalar.Value,
        YamlScalarNode scalar => Plain(scalar.Value!),
        _ => throw new InvalidOperationException($"Unexpected node {node.NodeType}."),
    };

    private static object? Plain(string value) => value switch
    {
        "true" or "True" or "TRUE" => true,
        "false" or "False" or "FALSE" => false,
        "" or "~" or "null" or "Null" or "NULL" => null,
        _ when Yaml11Words.Contains(value) => $"<YAML 1.1 bool '{value}'>",
        _ when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => number,
        _ when value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || value.StartsWith("0o", StringComparison.OrdinalIgnoreCase) => $"<YAML number '{value}'>",
        _ => value,
    };

    public static object Of(Workflow workflow)
    {
        var root = new Builder();
        root.Add("name", workflow.Name);
        root.Add("run-name", workflow.RunName);
        root.Add("on", Triggers(workflow.On));
        root.Add("permissions", Permissions(workflow.Permissions), keepEmpty: true);
        root.Add("concurrency", Concurrency(workflow.Concurrency));
        root.Add("env", Strings(workflow.Env));
        root.Add("defaults", Defaults(workflow.DefaultShell, null));
        root.Add("jobs", new Map([.. workflow.Jobs.Select(j => KeyValuePair.Create(j.Id, (object?)Job(j)))]));
        return root.Map;
    }

    private static Map Triggers(WorkflowTriggers on)
    {
        var triggers = new Builder();
        if (on.Push is { } push)
            triggers.Add("push", new Builder().Add("branches", Strings(push.Branches)).Add("tags", Strings(push.Tags)).Add("paths", Strings(push.Paths)).Add("paths-ignore", Strings(push.PathsIgnore)).Map, keepEmpty: true);
        if (on.PullRequest is { } pr)
            triggers.Add("pull_request", new Builder().Add("types", Strings(pr.Types)).Add("branches", Strings(pr.Branches)).Add("paths", Strings(pr.Paths)).Add("paths-ignore", Strings(pr.PathsIgnore)).Map, keepEmpty: true);
        if (on.WorkflowDispatch is { } dispatch)
        {
            var inputs = dispatch.Inputs.IsDefaultOrEmpty ? null : new Map([.. dispatch.Inputs.Select(i => KeyValuePair.Create(i.Name, (object?)new Builder()
                .Add("description", i.Description)
                .Add("type", i.Type.ToString().ToLowerInvariant())
                .Add("required", i.Required)
                .Add("default", i.Default is int or long or decimal ? Convert.ToDouble(i.Default, CultureInfo.InvariantCulture) : i.Default)
                .Add("options", Strings(i.Options)).Map))]);
            triggers.Add("workflow_dispatch", new Builder().Add("inputs", inputs).Map, keepEmpty: true);
        }
        triggers.Add("schedule", on.Schedules.IsDefaultOrEmpty ? null : on.Schedules.Select(c => (object?)new Builder().Add("cron", c).Map).ToList());
        return triggers.Map;
    }

    private static Map Job(Job job)
    {
        var map = new Builder()
            .Add("name", job.Name)
            .Add("needs", job.Needs.Length == 1 ? job.Needs[0] : Strings(job.Needs) as object)
            .Add("if", job.If)
            .Add("runs-on", job.RunsOn.Length == 1 ? job.RunsOn[0] : Strings(job.RunsOn) as object)
            .Add("environment", job.Environment is { } e ? new Builder().Add("name", e.Name).Add("url", e.Url).Add("deployment", e.Deployment).Map : null)
            .Add("permissions", Permissions(job.Permissions), keepEmpty: true)
            .Add("concurrency", Concurrency(job.Concurrency))
            .Add("timeout-minutes", job.TimeoutMinutes is { } t ? (double)t : null)
            .Add("strategy", job.Strategy is { } s
                ? new Builder().Add("fail-fast", s.FailFast).Add("max-parallel", s.MaxParallel is { } p ? (double)p : null)
                    .Add("matrix", s.MatrixExpression ?? (object)new Map([.. s.Matrix.Select(a => KeyValuePair.Create(a.Key, (object?)Strings(a.Value)))])).Map
                : null)
            .Add("outputs", Strings(job.Outputs))
            .Add("env", Strings(job.Env))
            .Add("defaults", Defaults(job.DefaultShell, job.DefaultWorkingDirectory))
            .Add("steps", job.Steps.Select(Step).ToList<object?>());
        return map.Map;
    }

    private static object? Step(Step step) => new Builder()
        .Add("name", step.Name)
        .Add("id", step.Id)
        .Add("if", step.If)
        .Add("uses", step.Uses)
        .Add("with", Strings(step.With))
        .Add("run", step.Run)
        .Add("shell", step.Shell)
        .Add("working-directory", step.WorkingDirectory)
        .Add("env", Strings(step.Env))
        .Add("continue-on-error", step.ContinueOnError ? true : null)
        .Add("timeout-minutes", step.TimeoutMinutes is { } t ? (double)t : null)
        .Map;

    private static Map? Permissions(Permissions? permissions) => permissions is null ? null
        : new Map([.. permissions.Scopes.Select(s => KeyValuePair.Create(Tesslate.Build.Engine.Workflows.Permissions.KeyOf(s.Key), (object?)Tesslate.Build.Engine.Workflows.Permissions.ValueOf(s.Value)))]);

    private static Map? Concurrency(Concurrency? concurrency) => concurrency is null ? null
        : new Builder().Add("group", concurrency.Group).Add("cancel-in-progress", concurrency.CancelInProgress).Map;

    private static Map? Defaults(string? shell, string? workingDirectory) => shell is null && workingDirectory is null ? null
        : new Builder().Add("run", new Builder().Add("shell", shell).Add("working-directory", workingDirectory).Map).Map;

    private static List<object?>? Strings(IReadOnlyList<string> values) =>
        values is System.Collections.Immutable.ImmutableArray<string> { IsDefault: true } || values.Count == 0 ? null : [.. values.Select(Text)];

    private static Map? Strings(IReadOnlyDictionary<string, string> values) =>
        values.Count == 0 ? null : new Map([.. values.Select(v => KeyValuePair.Create(v.Key, (object?)Text(v.Value)))]);

    // The one documented normalisation: multi-line text is a literal block ending in exactly one newline, with \n line ends.
    private static string Text(string value)
    {
        var text = value.Replace("\r\n", "\n", StringComparison.Ordinal);
        return text.Contains('\n') ? text.TrimEnd('\n') + "\n" : text;
    }

    /// <summary>Absent values (null, empty lists and maps) are left out, as the writer leaves them out.</summary>
    private sealed class Builder
    {
        public Map Map { get; } = new([]);

        /// <param name="keepEmpty">For maps whose presence means something: <c>permissions: {}</c>, <c>pull_request: {}</c>.</param>
        public Builder Add(string key, object? value, bool keepEmpty = false)
        {
            if (value is not (null or Map { Entries.Count: 0 } or List<object?> { Count: 0 }) || (value is Map && keepEmpty))
                Map.Entries.Add(KeyValuePair.Create<string, object?>(key, value is string text ? Text(text) : value));
            return this;
        }
    }

    /// <summary>Where the trees first differ, as a path and both values; null when they are the same.</summary>
    public static string? FirstDifference(object? expected, object? actual, string path)
    {
        switch (expected, actual)
        {
            case (Map e, Map a):
                for (var i = 0; i < Math.Max(e.Entries.Count, a.Entries.Count); i++)
                {
                    if (i >= e.Entries.Count)
                        return $"{path}/{a.Entries[i].Key}: not declared, but read from the YAML";
                    if (i >= a.Entries.Count || e.Entries[i].Key != a.Entries[i].Key)
                        return $"{path}/{e.Entries[i].Key}: declared here, read {(i < a.Entries.Count ? $"'{a.Entries[i].Key}'" : "nothing")} instead";
                    if (FirstDifference(e.Entries[i].Value, a.Entries[i].Value, $"{path}/{e.Entries[i].Key}") is { } inner)
                        return inner;
                }
                return null;
            case (List<object?> e, List<object?> a):
                if (e.Count != a.Count)
                    return $"{path}: {e.Count} items declared, {a.Count} read";
                return e.Select((item, i) => FirstDifference(item, a[i], $"{path}/{i}")).FirstOrDefault(d => d is not null);
            default:
                return Equals(expected, actual) ? null
                    : $"{path}: expected {Show(expected)}, read {Show(actual)}";
        }
    }

    private static string Show(object? value) => value switch
    {
        null => "nothing",
        string s => $"\"{s}\" (String)",
        bool b => $"{(b ? "true" : "false")} (Boolean)",
        _ => $"{value} ({value.GetType().Name})",
    };
}
