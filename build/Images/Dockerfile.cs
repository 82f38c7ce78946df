using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tesslate.Build.Images;

/// <summary>One <c>FROM</c>: the image it names (after ARG substitution), its alias, and whether it is an earlier stage.</summary>
public sealed record DockerfileStage(string BaseImage, string? Alias, string? Platform, bool FromEarlierStage);

/// <summary>
/// What a Dockerfile reads: its stages and external base images, the context paths its COPY/ADD instructions can read,
/// remote sources (ADD of a URL), and whether something reads the whole context in a way we cannot narrow
/// (<c>RUN --mount=type=bind</c> without <c>from=</c>, or a source path whose variables cannot be resolved).
/// </summary>
public sealed record DockerfileInputs(
    ImmutableArray<DockerfileStage> Stages,
    ImmutableArray<string> ContextSources,
    ImmutableArray<string> RemoteSources,
    bool ReadsWholeContext,
    string? WholeContextReason)
{
    /// <summary>Base images pulled from a registry or the local engine (not <c>scratch</c>, not earlier stages), in order, distinct.</summary>
    public ImmutableArray<string> ExternalBaseImages =>
        [.. Stages.Where(s => !s.FromEarlierStage && !s.BaseImage.Equals("scratch", StringComparison.OrdinalIgnoreCase)).Select(s => s.BaseImage).Distinct()];
}

/// <summary>Reads a Dockerfile the way the builder does, as far as the fingerprint needs: instructions, ARG substitution, stages.</summary>
public static partial class DockerfileParser
{
    public static DockerfileInputs Parse(string text, IReadOnlyDictionary<string, string>? buildArgs = null)
    {
        buildArgs ??= ImmutableDictionary<string, string>.Empty;
        var instructions = Instructions(text);
        var globalArgs = new Dictionary<string, string?>(StringComparer.Ordinal);
        var stageVariables = new Dictionary<string, string?>(StringComparer.Ordinal);
        var stageNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var stages = ImmutableArray.CreateBuilder<DockerfileStage>();
        var sources = new SortedSet<string>(StringComparer.Ordinal);
        var remote = new SortedSet<string>(StringComparer.Ordinal);
        string? wholeContextReason = null;
        var seenFrom = false;

        foreach (var (keyword, rest) in instructions)
        {
            switch (keyword)
            {
                case "ARG":
                    foreach (var (name, defaultValue) in ArgDeclarations(rest))
                    {
                        var value = buildArgs.TryGetValue(name, out var given) ? given
                            : defaultValue is not null ? Expand(defaultValue, seenFrom ? stageVariables : globalArgs, out _)
                            : seenFrom && globalArgs.TryGetValue(name, out var global) ? global
                            : null;
                        if (seenFrom)
                            stageVariables[name] = value;
                        else
                            globalArgs[name] = value;
                    }
                    break;
                case "ENV" when seenFrom:
                    foreach (var (name, value) in EnvDeclarations(rest))
                        stageVariables[name] = Expand(value, stageVariables, out _);
                    break;
                case "FROM":
                    {
                        seenFrom = true;
                        stageVariables = new Dictionary<string, string?>(StringComparer.Ordinal);
                        var (flags, words) = SplitFlags(rest);
                        if (words.Count == 0)
                            break;
                        // An unresolved ARG leaves a reference no registry knows; the fingerprint then marks the base unresolved.
                        var image = Expand(words[0], globalArgs, out _);
                        var alias = words.Count >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                        flags.TryGetValue("platform", out var platform);
                        stages.Add(new DockerfileStage(image, alias, platform, stageNames.Contains(image)));
                        if (alias is not null)
                            stageNames.Add(alias);
                        break;
                    }
                case "COPY" or "ADD":
                    {
                        var (flags, words) = SplitFlags(rest);
                        if (flags.ContainsKey("from"))
                            break; // reads another stage or image, not the context
                        if (rest.TrimStart().StartsWith("<<", StringComparison.Ordinal))
                            break; // a heredoc: its content is in the Dockerfile itself
                        if (words.Count < 2)
                            break;
                        foreach (var word in words.Take(words.Count - 1))
                        {
                            if (word.StartsWith("<<", StringComparison.Ordinal))
                                continue;
                            var source = Expand(word, stageVariables.Count > 0 ? Merge(globalArgs, stageVariables) : globalArgs, out var unknown);
                            if (unknown)
                            {
                                wholeContextReason ??= $"{keyword} {word} uses a variable without a value";
                                continue;
                            }
                            if (keyword == "ADD" && IsRemote(source))
                            {
                                remote.Add(source);
                                continue;
                            }
                            var cleaned = DockerIgnore.Clean(source);
                            if (cleaned.StartsWith("..", StringComparison.Ordinal))
                                continue; // the builder refuses paths outside the context
                            sources.Add(cleaned.Length == 0 ? "." : cleaned);
                        }
                        break;
                    }
                case "RUN":
                    foreach (Match mount in MountFlag().Matches(rest))
                    {
                        var options = mount.Groups["options"].Value.Split(',')
                            .Select(o => o.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p.Length > 1 ? p[1].Trim() : "", StringComparer.OrdinalIgnoreCase);
                        var type = options.GetValueOrDefault("type", "bind");
                        if (type == "bind" && !options.ContainsKey("from"))
                            wholeContextReason ??= "RUN --mount=type=bind reads the build context";
                    }
                    break;
            }
        }

        return new DockerfileInputs(stages.ToImmutable(), [.. sources], [.. remote], wholeContextReason is not null, wholeContextReason);
    }

    /// <summary>Logical instructions: comments and parser directives dropped, continuation lines joined.</summary>
    internal static IEnumerable<(string Keyword, string Arguments)> Instructions(string text)
    {
        var escape = '\\';
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var directives = true;
        var current = new StringBuilder();
        foreach (var rawLine in lines)
        {
            var line = rawLine;
            var trimmed = line.TrimStart();
            if (directives)
            {
                var directive = Directive().Match(trimmed);
                if (directive.Success)
                {
                    if (directive.Groups["name"].Value.Equals("escape", StringComparison.OrdinalIgnoreCase) && directive.Groups["value"].Value.Length == 1)
                        escape = directive.Groups["value"].Value[0];
                    continue;
                }
                directives = false;
            }
            if (trimmed.StartsWith('#'))
                continue; // comment lines are dropped even inside a continuation
            if (current.Length == 0 && trimmed.Length == 0)
                continue;
            var end = line.TrimEnd();
            if (end.EndsWith(escape))
            {
                current.Append(end[..^1]).Append(' ');
                continue;
            }
            current.Append(line);
            var instruction = current.ToString().Trim();
            current.Clear();
            if (instruction.Length == 0)
                continue;
            var split = instruction.IndexOfAny([' ', '\t']);
            yield return split < 0 ? (instruction.ToUpperInvariant(), "") : (instruction[..split].ToUpperInvariant(), instruction[(split + 1)..].Trim());
        }
        if (current.Length > 0)
        {
            var instruction = current.ToString().Trim();
            var split = instruction.IndexOfAny([' ', '\t']);
            if (instruction.Length > 0)
                yield return split < 0 ? (instruction.ToUpperInvariant(), "") : (instruction[..split].ToUpperInvariant(), instruction[(split + 1)..].Trim());
        }
    }

    /// <summary>Leading <c>--name=value</c> flags, then the words (JSON array form or whitespace-separated).</summary>
    internal static (Dictionary<string, string> Flags, List<string> Words) SplitFlags(string rest)
    {
        var flags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var remaining = rest.TrimStart();
        while (remaining.StartsWith("--", StringComparison.Ordinal))
        {
            var end = remaining.IndexOfAny([' ', '\t']);
            var flag = end < 0 ? remaining : remaining[..end];
            var parts = flag[2..].Split('=', 2);
            flags[parts[0]] = parts.Length > 1 ? parts[1] : "true";
            remaining = end < 0 ? "" : remaining[end..].TrimStart();
        }
        if (remaining.StartsWith('['))
        {
            try
            {
                var array = JsonSerializer.Deserialize<string[]>(remaining);
                if (array is not null)
                    return (flags, [.. array]);
            }
            catch (JsonException)
            {
                // Not valid JSON: the builder treats it as the shell form, and so do we.
            }
        }
        return (flags, [.. remaining.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)]);
    }

    private static IEnumerable<(string Name, string? Default)> ArgDeclarations(string rest)
    {
        foreach (var word in rest.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = word.Split('=', 2);
            yield return (parts[0], parts.Length > 1 ? Unquote(parts[1]) : null);
        }
    }

    private static IEnumerable<(string Name, string Value)> EnvDeclarations(string rest)
    {
        var words = rest.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length > 0 && !words[0].Contains('='))
        {
            yield return (words[0], Unquote(string.Join(' ', words.Skip(1))));
            yield break;
        }
        foreach (var word in words)
        {
            var parts = word.Split('=', 2);
            if (parts.Length == 2)
                yield return (parts[0], Unquote(parts[1]));
        }
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' && value[^1] == '"' || value[0] == '\'' && value[^1] == '\'') ? value[1..^1] : value;

    private static bool IsRemote(string source) =>
        source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || source.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || source.StartsWith("git@", StringComparison.Ordinal);

    private static Dictionary<string, string?> Merge(Dictionary<string, string?> first, Dictionary<string, string?> second)
    {
        var merged = new Dictionary<string, string?>(first, StringComparer.Ordinal);
        foreach (var (key, value) in second)
            merged[key] = value;
        return merged;
    }

    /// <summary>Substitutes <c>$NAME</c>, <c>${NAME}</c>, <c>${NAME:-default}</c> and <c>${NAME:+alt}</c>.</summary>
    internal static string Expand(string word, IReadOnlyDictionary<string, string?> variables, out bool unresolved)
    {
        var missing = false;
        var result = Variable().Replace(word, match =>
        {
            var name = match.Groups["braced"].Success ? match.Groups["braced"].Value : match.Groups["plain"].Value;
            var op = match.Groups["op"].Value;
            var operand = match.Groups["operand"].Value;
            variables.TryGetValue(name, out var value);
            switch (op)
            {
                case ":-":
                    return string.IsNullOrEmpty(value) ? operand : value;
                case ":+":
                    return string.IsNullOrEmpty(value) ? "" : operand;
                default:
                    if (value is null)
                        missing = true;
                    return value ?? "";
            }
        });
        unresolved = missing;
        return result;
    }

    [GeneratedRegex(@"\$(\{(?<braced>[A-Za-z_][A-Za-z0-9_]*)((?<op>:[-+])(?<operand>[^}]*))?\}|(?<plain>[A-Za-z_][A-Za-z0-9_]*))")]
    private static partial Regex Variable();

    [GeneratedRegex(@"--mount=(?<options>\S+)")]
    private static partial Regex MountFlag();

    [GeneratedRegex(@"^#\s*(?<name>[a-zA-Z]+)\s*=\s*(?<value>\S+)\s*$")]
    private static partial Regex Directive();
}
