using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Tesslate.Build.Engine;

/// <summary>
/// The run's one report: targets, durations and outcome, plus a section per concern that targets add
/// (<c>images</c>, <c>terraform</c>, <c>rollouts</c>, …). Written as JSON under .nuke/temp and as Markdown for
/// GitHub's step summary. Everything passes through the secret registry before it is written.
/// </summary>
public sealed class RunReport
{
    public const int SchemaVersion = 1;

    // GitHub rejects a step summary over 1024 KiB; keep well below it.
    private const int StepSummaryLimit = 900 * 1024;

    private readonly Lock _gate = new();
    // Made by the first section: a JsonNode field initialiser would load System.Text.Json on every start (--help too).
    private Dictionary<string, JsonNode?>? _sections;
    private readonly List<(string Title, string Markdown)> _markdown = [];

    public static JsonSerializerOptions JsonOptions => Serialization.Options;

    // Created on first use, not when the first report is: --help and --plan never serialize one.
    private static class Serialization
    {
        public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        };
    }

    private string? _runId;

    /// <summary>The run's start (UTC, to the second) and six random hex digits, made when first asked for.</summary>
    public string RunId => LazyInitializer.EnsureInitialized(ref _runId, () => $"{StartedAt:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("n")[..6]}");

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>Sets (replaces) a section; <paramref name="value"/> is serialized with <see cref="JsonOptions"/>.</summary>
    public void SetSection<T>(string name, T value)
    {
        lock (_gate)
            (_sections ??= [])[name] = JsonSerializer.SerializeToNode(value, JsonOptions);
    }

    public T? GetSection<T>(string name)
    {
        lock (_gate)
            return _sections is not null && _sections.TryGetValue(name, out var node) && node is not null ? node.Deserialize<T>(JsonOptions) : default;
    }

    /// <summary>Markdown shown in GitHub's step summary after the target table (collapsed under its title).</summary>
    public void AddMarkdown(string title, string markdown)
    {
        lock (_gate)
            _markdown.Add((title, markdown));
    }

    public JsonObject ToJson(ExecutionPlan? plan, int exitCode, IReadOnlyList<string> invocation, bool dryRun, IEnumerable<string> problems)
    {
        lock (_gate)
        {
            var json = new JsonObject
            {
                ["schemaVersion"] = SchemaVersion,
                ["runId"] = RunId,
                ["startedAt"] = StartedAt,
                ["finishedAt"] = DateTimeOffset.UtcNow,
                ["invocation"] = new JsonArray([.. invocation.Select(a => (JsonNode)Secrets.Redact(a))]),
                ["dryRun"] = dryRun,
                ["exitCode"] = exitCode,
                ["outcome"] = exitCode switch { 0 => "succeeded", ExitCodes.Interrupted => "interrupted", ExitCodes.Usage => "usage-error", _ => "failed" },
                ["targets"] = new JsonArray([.. (plan?.Targets ?? []).Select(t => (JsonNode)new JsonObject
                {
                    ["name"] = t.Name,
                    ["status"] = JsonNamingPolicy.KebabCaseLower.ConvertName(t.Status.ToString()),
                    ["durationSeconds"] = Math.Round(t.Duration.TotalSeconds, 3),
                    ["note"] = t.Note is null ? null : Secrets.Redact(t.Note),
                    ["details"] = t.Details.Count == 0 ? null : new JsonArray([.. t.Details.Select(d => (JsonNode)Secrets.Redact(d))]),
                })]),
                ["problems"] = new JsonArray([.. problems.Select(p => (JsonNode)Secrets.Redact(p))]),
                ["sections"] = new JsonObject((_sections ?? []).Select(s => KeyValuePair.Create(s.Key, s.Value?.DeepClone()))),
            };
            return json;
        }
    }

    public async Task WriteAsync(string path, JsonObject json)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, Secrets.Redact(json.ToJsonString(JsonOptions)));
    }

    public string ToMarkdown(ExecutionPlan plan, string outcome)
    {
        var lines = new List<string> { $"### {outcome}", "", "| Target | Status | Duration | Note |", "|---|---|---:|---|" };
        foreach (var target in plan.Targets)
            lines.Add($"| {target.Name} | {target.Status} | {(target.Duration > TimeSpan.Zero ? Durations.Format(target.Duration) : "")} | {Cell(target.Note)} |");
        lock (_gate)
        {
            foreach (var (title, markdown) in _markdown)
                lines.AddRange(["", $"<details><summary>{title}</summary>", "", markdown, "", "</details>"]);
        }
        var text = Secrets.Redact(string.Join('\n', lines) + "\n");
        return text.Length <= StepSummaryLimit ? text : text[..StepSummaryLimit] + "\n\n… (truncated; the full report is the run-report artifact)\n";
    }

    private static string Cell(string? text) => (text ?? "").Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
