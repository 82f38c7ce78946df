using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Tesslate.Build.Engine.Workflows;

/// <summary>What the header of every generated file says: that it is generated, and the command that regenerates it.</summary>
public sealed record GeneratedFileHeader(string RegenerateCommand, string? Source = null)
{
    /// <summary>The marker the drift check looks for to recognise generated files.</summary>
    public const string Marker = "This file is generated";

    public IEnumerable<string> Lines()
    {
        yield return $"# {Marker}: do not edit it by hand.";
        yield return $"# Regenerate with: {RegenerateCommand}";
        if (Source is not null)
            yield return $"# Declared in: {Source}";
    }
}

/// <summary>
/// Writes a <see cref="Workflow"/> as YAML through YamlDotNet's emitter, with keys in the order people write them
/// (name, on, permissions, concurrency, env, jobs; in a job: name, needs, if, runs-on, environment, permissions …),
/// so that the same declaration always gives the same bytes.
/// </summary>
public static class WorkflowYamlWriter
{
    public static string Write(Workflow workflow, GeneratedFileHeader header)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        foreach (var line in header.Lines())
            text.WriteLine(line);
        text.WriteLine();

        var emitter = new Emitter(text, new EmitterSettings(bestIndent: 2, bestWidth: int.MaxValue, isCanonical: false,
            maxSimpleKeyLength: 1024, skipAnchorName: false, indentSequences: true, newLine: "\n"));
        var yaml = new YamlEvents(emitter);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, isImplicit: true));
        WriteWorkflow(yaml, workflow);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void WriteWorkflow(YamlEvents y, Workflow workflow)
    {
        y.BeginMap();
        y.Pair("name", workflow.Name);
        y.OptionalPair("run-name", workflow.RunName);
        y.Key("on");
        WriteTriggers(y, workflow.On);
        WritePermissions(y, workflow.Permissions);
        WriteConcurrency(y, workflow.Concurrency);
        y.OptionalMap("env", workflow.Env);
        WriteDefaults(y, workflow.DefaultShell, null);
        y.Key("jobs");
        y.BeginMap();
        foreach (var job in workflow.Jobs)
        {
            y.Key(job.Id);
            WriteJob(y, job);
        }
        y.EndMap();
        y.EndMap();
    }

    private static void WriteTriggers(YamlEvents y, WorkflowTriggers on)
    {
        y.BeginMap();
        if (on.Push is { } push)
        {
            y.Key("push");
            y.BeginMap();
            y.OptionalList("branches", push.Branches);
            y.OptionalList("tags", push.Tags);
            y.OptionalList("paths", push.Paths);
            y.OptionalList("paths-ignore", push.PathsIgnore);
            y.EndMap();
        }
        if (on.PullRequest is { } pullRequest)
        {
            y.Key("pull_request");
            y.BeginMap();
            y.OptionalList("types", pullRequest.Types);
            y.OptionalList("branches", pullRequest.Branches);
            y.OptionalList("paths", pullRequest.Paths);
            y.OptionalList("paths-ignore", pullRequest.PathsIgnore);
            y.EndMap();
        }
        if (on.WorkflowDispatch is { } dispatch)
        {
            y.Key("workflow_dispatch");
            y.BeginMap();
            if (!dispatch.Inputs.IsDefaultOrEmpty)
            {
                y.Key("inputs");
                y.BeginMap();
                foreach (var input in dispatch.Inputs)
                {
                    y.Key(input.Name);
                    WriteInput(y, input);
                }
                y.EndMap();
            }
            y.EndMap();
        }
        if (!on.Schedules.IsDefaultOrEmpty)
        {
            y.Key("schedule");
            y.BeginList();
            foreach (var cron in on.Schedules)
            {
                y.BeginMap();
                y.Pair("cron", cron);
                y.EndMap();
            }
            y.EndList();
        }
        y.EndMap();
    }

    private static void WriteInput(YamlEvents y, WorkflowInput input)
    {
        y.BeginMap();
        y.Pair("description", input.Description);
        y.Key("type");
        y.Plain(input.Type.ToString().ToLowerInvariant());
        y.Key("required");
        y.Plain(input.Required ? "true" : "false");
        switch (input.Default)
        {
            case null:
                break;
            case bool b:
                y.Key("default");
                y.Plain(b ? "true" : "false");
                break;
            case double or int or long or decimal:
                y.Key("default");
                y.Plain(Convert.ToString(input.Default, CultureInfo.InvariantCulture)!);
                break;
            default:
                y.Pair("default", input.Default.ToString()!);
                break;
        }
        y.OptionalList("options", input.Options);
        y.EndMap();
    }

    private static void WritePermissions(YamlEvents y, Permissions? permissions)
    {
        if (permissions is null)
            return;
        y.Key("permissions");
        if (permissions.Scopes.IsEmpty)
        {
            y.EmptyFlowMap();
            return;
        }
        y.BeginMap();
        foreach (var (scope, level) in permissions.Scopes)
        {
            y.Key(Permissions.KeyOf(scope));
            y.Plain(Permissions.ValueOf(level));
        }
        y.EndMap();
    }

    private static void WriteConcurrency(YamlEvents y, Concurrency? concurrency)
    {
        if (concurrency is null)
            return;
        y.Key("concurrency");
        y.BeginMap();
        y.Pair("group", concurrency.Group);
        y.Key("cancel-in-progress");
        y.Plain(concurrency.CancelInProgress ? "true" : "false");
        y.EndMap();
    }

    private static void WriteDefaults(YamlEvents y, string? shell, string? workingDirectory)
    {
        if (shell is null && workingDirectory is null)
            return;
        y.Key("defaults");
        y.BeginMap();
        y.Key("run");
        y.BeginMap();
        y.OptionalPair("shell", shell);
        y.OptionalPair("working-directory", workingDirectory);
        y.EndMap();
        y.EndMap();
    }

    private static void WriteJob(YamlEvents y, Job job)
    {
        y.BeginMap();
        y.OptionalPair("name", job.Name);
        if (!job.Needs.IsDefaultOrEmpty)
        {
            if (job.Needs.Length == 1)
                y.Pair("needs", job.Needs[0]);
            else
                y.OptionalList("needs", job.Needs);
        }
        y.OptionalPair("if", job.If);
        if (job.RunsOn.Length == 1)
            y.Pair("runs-on", job.RunsOn[0]);
        else
            y.OptionalList("runs-on", job.RunsOn);
        if (job.Environment is { } environment)
        {
            y.Key("environment");
            y.BeginMap();
            y.Pair("name", environment.Name);
            y.OptionalPair("url", environment.Url);
            if (environment.Deployment is { } deployment)
            {
                y.Key("deployment");
                y.Plain(deployment ? "true" : "false");
            }
            y.EndMap();
        }
        WritePermissions(y, job.Permissions);
        WriteConcurrency(y, job.Concurrency);
        if (job.TimeoutMinutes is { } timeout)
        {
            y.Key("timeout-minutes");
            y.Plain(timeout.ToString(CultureInfo.InvariantCulture));
        }
        if (job.Strategy is { } strategy)
            WriteStrategy(y, strategy);
        y.OptionalMap("outputs", job.Outputs);
        y.OptionalMap("env", job.Env);
        WriteDefaults(y, job.DefaultShell, job.DefaultWorkingDirectory);
        y.Key("steps");
        y.BeginList();
        foreach (var step in job.Steps)
            WriteStep(y, step);
        y.EndList();
        y.EndMap();
    }

    private static void WriteStrategy(YamlEvents y, JobStrategy strategy)
    {
        y.Key("strategy");
        y.BeginMap();
        if (strategy.FailFast is { } failFast)
        {
            y.Key("fail-fast");
            y.Plain(failFast ? "true" : "false");
        }
        if (strategy.MaxParallel is { } maxParallel)
        {
            y.Key("max-parallel");
            y.Plain(maxParallel.ToString(CultureInfo.InvariantCulture));
        }
        y.Key("matrix");
        if (strategy.MatrixExpression is { } expression)
        {
            y.String(expression);
        }
        else
        {
            y.BeginMap();
            foreach (var (axis, values) in strategy.Matrix)
            {
                y.Key(axis);
                y.BeginList();
                foreach (var value in values)
                    y.String(value);
                y.EndList();
            }
            y.EndMap();
        }
        y.EndMap();
    }

    private static void WriteStep(YamlEvents y, Step step)
    {
        y.BeginMap();
        y.OptionalPair("name", step.Name);
        y.OptionalPair("id", step.Id);
        y.OptionalPair("if", step.If);
        if (step.Uses is not null)
        {
            y.Key("uses");
            y.String(step.Uses);
            if (step.UsesComment is not null)
                y.InlineComment(step.UsesComment);
        }
        y.OptionalMap("with", step.With);
        if (step.Run is not null)
        {
            y.Key("run");
            y.Script(step.Run);
        }
        y.OptionalPair("shell", step.Shell);
        y.OptionalPair("working-directory", step.WorkingDirectory);
        y.OptionalMap("env", step.Env);
        if (step.ContinueOnError)
        {
            y.Key("continue-on-error");
            y.Plain("true");
        }
        if (step.TimeoutMinutes is { } timeout)
        {
            y.Key("timeout-minutes");
            y.Plain(timeout.ToString(CultureInfo.InvariantCulture));
        }
        y.EndMap();
    }

    /// <summary>Thin layer over the emitter: scalars that would read as another type (true, 3, null, '') are quoted.</summary>
    private sealed class YamlEvents(IEmitter emitter)
    {
        private static readonly HashSet<string> Ambiguous = new(StringComparer.OrdinalIgnoreCase)
        {
            "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
        };

        public void BeginMap() => emitter.Emit(new MappingStart(null, null, true, MappingStyle.Block));

        public void EmptyFlowMap()
        {
            emitter.Emit(new MappingStart(null, null, true, MappingStyle.Flow));
            emitter.Emit(new MappingEnd());
        }

        public void EndMap() => emitter.Emit(new MappingEnd());

        public void BeginList() => emitter.Emit(new SequenceStart(null, null, true, SequenceStyle.Block));

        public void EndList() => emitter.Emit(new SequenceEnd());

        // Keys are identifiers we control; `on` must stay plain because that is how every workflow spells it.
        public void Key(string key) => Plain(key);

        public void Plain(string value) => emitter.Emit(new Scalar(null, null, value, ScalarStyle.Plain, true, false));

        public void String(string value)
        {
            if (value.Contains('\n'))
            {
                Script(value);
                return;
            }
            var style = value.Length == 0 || Ambiguous.Contains(value) || LooksNumeric(value) ? ScalarStyle.SingleQuoted : ScalarStyle.Any;
            emitter.Emit(new Scalar(null, null, value, style, true, true));
        }

        /// <summary>Multi-line text as a literal block ending in one newline, the way <c>run: |</c> is usually written.</summary>
        public void Script(string value)
        {
            var normalized = value.Replace("\r\n", "\n", StringComparison.Ordinal);
            if (!normalized.Contains('\n'))
            {
                String(normalized);
                return;
            }
            normalized = normalized.TrimEnd('\n') + "\n";
            emitter.Emit(new Scalar(null, null, normalized, ScalarStyle.Literal, true, true));
        }

        public void InlineComment(string text) => emitter.Emit(new Comment(text, isInline: true));

        public void Pair(string key, string value)
        {
            Key(key);
            String(value);
        }

        public void OptionalPair(string key, string? value)
        {
            if (value is not null)
                Pair(key, value);
        }

        public void OptionalList(string key, IReadOnlyList<string> values)
        {
            if (values is System.Collections.Immutable.ImmutableArray<string> { IsDefault: true } || values.Count == 0)
                return;
            Key(key);
            BeginList();
            foreach (var value in values)
                String(value);
            EndList();
        }

        public void OptionalMap(string key, IReadOnlyDictionary<string, string> values)
        {
            if (values.Count == 0)
                return;
            Key(key);
            BeginMap();
            foreach (var (name, value) in values)
                Pair(name, value);
            EndMap();
        }

        private static bool LooksNumeric(string value) =>
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
            || value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || value.StartsWith("0o", StringComparison.OrdinalIgnoreCase);
    }
}
