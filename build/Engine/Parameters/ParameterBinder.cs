using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace Tesslate.Build.Engine;

public enum ParameterSource
{
    Default,
    ParametersFile,
    ProfileFile,
    EnvironmentVariable,
    CommandLine,
}

/// <summary>
/// Binds [Parameter] members from, highest first: the command line, a prefixed environment variable,
/// <c>.nuke/parameters.&lt;profile&gt;.json</c> (later profiles win), <c>.nuke/parameters.json</c>, the member's initializer.
/// Strict: unknown flags, missing or malformed values and malformed files are usage errors naming the fix.
/// </summary>
public sealed class ParameterBinder
{
    private readonly object _build;
    private readonly Dictionary<string, ParameterDescriptor> _byName;

    private readonly IReadOnlySet<string> _pathMembers;

    /// <param name="pathMembers">Members whose values are paths: from a parameters file they are relative to the repository root.</param>
    public ParameterBinder(object build, string environmentPrefix, IReadOnlyCollection<string>? pathMembers = null)
    {
        _build = build;
        Parameters = Discover(build, environmentPrefix);
        _byName = Parameters.ToDictionary(p => p.Name.Replace("-", "", StringComparison.Ordinal), StringComparer.OrdinalIgnoreCase);
        _pathMembers = (pathMembers ?? []).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyList<ParameterDescriptor> Parameters { get; }

    public Dictionary<string, ParameterSource> Sources { get; } = [];

    public ParameterDescriptor? Find(string name) => _byName.GetValueOrDefault(name.Replace("-", "", StringComparison.Ordinal));

    public static IReadOnlyList<ParameterDescriptor> Discover(object build, string environmentPrefix)
    {
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        var members = new List<ParameterDescriptor>();
        for (var type = build.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (var member in type.GetFields(flags | BindingFlags.DeclaredOnly).Cast<MemberInfo>().Concat(type.GetProperties(flags | BindingFlags.DeclaredOnly)))
            {
                // IsDefined first: it reads no attribute's arguments, and most members of a build are not parameters.
                // Only an overriding property can inherit the attribute: asking about inheritance for every property
                // parses its signature and loads the assemblies of its types (Serilog, ...) at start.
                var inherit = member is PropertyInfo { GetMethod.IsVirtual: true };
                if (!member.IsDefined(typeof(ParameterAttribute), inherit) || member.GetCustomAttribute<ParameterAttribute>(inherit) is not { } attribute)
                    continue;
                var value = member is FieldInfo f ? f.GetValue(build) : ((PropertyInfo)member).GetValue(build);
                members.Add(new ParameterDescriptor(member, attribute, environmentPrefix, value));
            }
        }
        return members;
    }

    /// <param name="nukeDirectory">The <c>.nuke</c> folder holding parameters*.json; its parent is the repository root.</param>
    public void Bind(CommandLine commandLine, IReadOnlyDictionary<string, string> environment, string nukeDirectory, IReadOnlyList<string> profiles)
    {
        var fromCli = new Dictionary<ParameterDescriptor, List<string>>();
        foreach (var (name, values) in commandLine.Options)
        {
            var parameter = Find(name);
            if (parameter is null)
            {
                var guess = Suggestions.Closest(name, Parameters.Select(p => p.Name));
                throw new UsageException($"Unknown option '--{name}'." + (guess is null ? "" : $" Did you mean '--{guess}'?"), "See ./build.sh --help for every parameter.");
            }
            if (fromCli.TryGetValue(parameter, out var earlier))
                RefuseConflict(parameter, earlier, values);
            fromCli[parameter] = values;
        }
        var files = ReadFiles(nukeDirectory, profiles);

        // Secrets are known before anything is converted, so that no message about a bad value can show one.
        foreach (var parameter in Parameters.Where(p => p.IsSecret))
        {
            fromCli.GetValueOrDefault(parameter)?.ForEach(Secrets.Register);
            Secrets.Register(EnvironmentValue(environment, parameter));
            foreach (var file in files)
                file.RegisterSecret(parameter.MemberName);
        }

        foreach (var parameter in Parameters)
        {
            object? value;
            ParameterSource source;
            if (fromCli.TryGetValue(parameter, out var cliValues))
            {
                value = Convert(parameter, cliValues, parameter.Flag);
                source = ParameterSource.CommandLine;
            }
            else if (EnvironmentValue(environment, parameter) is { } text)
            {
                value = Convert(parameter, SplitEnvironmentValue(parameter, text), $"environment variable {parameter.EnvironmentVariable}");
                source = ParameterSource.EnvironmentVariable;
            }
            else if (files.FirstOrDefault(f => f.Values.ContainsKey(parameter.MemberName)) is { Path: not null } file)
            {
                value = ConvertFromFile(parameter, file, Path.GetDirectoryName(nukeDirectory)!);
                source = file.Source;
            }
            else
            {
                continue;
            }
            parameter.SetValue(_build, value);
            Sources[parameter.MemberName] = source;
        }

        foreach (var parameter in Parameters.Where(p => p.IsSecret))
            RegisterSecret(parameter.GetValue(_build));
    }

    /// <summary>A flag given twice is fine with the same value; with two values, which one was meant is a guess we do not make.</summary>
    private static void RefuseConflict(ParameterDescriptor parameter, List<string> first, List<string> second)
    {
        var a = Canonical(parameter, first);
        var b = Canonical(parameter, second);
        if (a == b)
            return;
        throw new UsageException(
            $"{parameter.Flag} is given twice with different values: '{Shown(parameter, first)}' and '{Shown(parameter, second)}'.",
            parameter.IsList
                ? $"Give it once, with every value: {parameter.Flag} a,b or {parameter.Flag} a b."
                : $"Give it once, with the value you mean.");
    }

    // The value as the parameter understands it, so that '--images a,b' and '--images a b' are the same.
    private static string Canonical(ParameterDescriptor parameter, List<string> values) => Convert(parameter, values, parameter.Flag) switch
    {
        Array array => string.Join('\u001f', array.Cast<object>()),
        var value => value?.ToString() ?? "",
    };

    // An empty variable (TESSLATE_DRY_RUN=) counts as unset, as in most CI systems' "clear this value".
    private static string? EnvironmentValue(IReadOnlyDictionary<string, string> environment, ParameterDescriptor parameter) =>
        environment.TryGetValue(parameter.EnvironmentVariable, out var text) && !string.IsNullOrWhiteSpace(text) ? text : null;

    private static void RegisterSecret(object? value)
    {
        switch (value)
        {
            case string text:
                Secrets.Register(text);
                break;
            case string[] texts:
                Array.ForEach(texts, Secrets.Register);
                break;
            case JsonElement { ValueKind: JsonValueKind.String } element:
                Secrets.Register(element.GetString());
                break;
            case JsonElement { ValueKind: JsonValueKind.Array } element:
                foreach (var item in element.EnumerateArray())
                    RegisterSecret(item);
                break;
        }
    }

    private static List<string> SplitEnvironmentValue(ParameterDescriptor parameter, string text) =>
        parameter.IsList ? [.. text.Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : [text];

    // JsonElement stays out of Bind's own code: a JSON value there would load System.Text.Json on every start,
    // though only a parameters file with values needs it.
    private sealed record ParametersFile(string Path, ParameterSource Source, Dictionary<string, JsonElement> Values)
    {
        public void RegisterSecret(string member) => ParameterBinder.RegisterSecret(Values.GetValueOrDefault(member));
    }

    private object? ConvertFromFile(ParameterDescriptor parameter, ParametersFile file, string repositoryRoot) =>
        ConvertJson(parameter, file.Values[parameter.MemberName], file.Path, repositoryRoot);

    /// <summary>The parameters files that exist, highest first: later profiles, earlier profiles, parameters.json.</summary>
    private List<ParametersFile> ReadFiles(string nukeDirectory, IReadOnlyList<string> profiles)
    {
        var files = new List<ParametersFile>();
        foreach (var profile in profiles.Reverse())
        {
            var path = Path.Combine(nukeDirectory, $"parameters.{profile}.json");
            if (!File.Exists(path))
                throw new UsageException($"Profile '{profile}' has no file {path}.", $"Create it, or choose one of: {string.Join(", ", ListProfiles(nukeDirectory).DefaultIfEmpty("(none)"))}.");
            if (ReadFile(path) is { } values)
                files.Add(new ParametersFile(path, ParameterSource.ProfileFile, values));
        }
        var defaults = Path.Combine(nukeDirectory, "parameters.json");
        if (File.Exists(defaults) && ReadFile(defaults) is { } defaultValues)
            files.Add(new ParametersFile(defaults, ParameterSource.ParametersFile, defaultValues));
        return files;
    }

    public static IEnumerable<string> ListProfiles(string nukeDirectory) =>
        Directory.Exists(nukeDirectory)
            ? Directory.GetFiles(nukeDirectory, "parameters.*.json").Select(f => Path.GetFileName(f)["parameters.".Length..^".json".Length]).Order()
            : [];

    /// <summary>A parameters file's values by member name (null: it sets none); a key that names no parameter is a usage error.</summary>
    private Dictionary<string, JsonElement>? ReadFile(string path)
    {
        var text = File.ReadAllText(path);
        if (OnlyNamesItsSchema(text))
            return null;
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            root = document.RootElement.Clone();
        }
        catch (JsonException error)
        {
            // The library's message ends with its own zero-based "LineNumber: n | BytePositionInLine: m."; keep the reason only.
            var reason = error.Message.Split([" Path:", " LineNumber:"], StringSplitOptions.None)[0];
            throw new UsageException($"{path} is not valid JSON at line {error.LineNumber + 1}, position {error.BytePositionInLine + 1}: {reason}",
                "Fix the file; its keys are parameter names in PascalCase, e.g. { \"Environment\": \"beta\" }.");
        }
        if (root.ValueKind != JsonValueKind.Object)
            throw new UsageException($"{path} must hold a JSON object.", "e.g. { \"Environment\": \"beta\" }");

        var values = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        var names = Parameters.Select(p => p.MemberName).ToList();
        foreach (var property in root.EnumerateObject().Where(p => p.Name != "$schema"))
        {
            var member = names.FirstOrDefault(n => string.Equals(n, property.Name, StringComparison.OrdinalIgnoreCase))
                ?? throw new UsageException($"{path} has an unknown key '{property.Name}'.{Suggestions.DidYouMean(property.Name, names)}",
                    "Keys are parameter names in PascalCase (see ./build.sh --help, or .nuke/build.schema.json); rename or remove it.");
            if (values.TryGetValue(member, out var earlier) && !JsonElement.DeepEquals(earlier, property.Value))
            {
                var secret = Parameters.First(p => p.MemberName == member).IsSecret;
                string Show(JsonElement e) => secret ? SecretRegistry.Mask : e.GetRawText();
                throw new UsageException($"{path} sets {member} twice with different values: {Show(earlier)} and {Show(property.Value)}.",
                    "Keep one of them: a JSON object's keys must be unique.");
            }
            values[member] = property.Value;
        }
        return values;
    }

    /// <summary>
    /// Whether the file is exactly <c>{ "$schema": "..." }</c> (the committed parameters.json): it sets nothing, and
    /// every start is spared loading and running the JSON parser. Anything else (a comment, a comma, a value) is parsed.
    /// </summary>
    internal static bool OnlyNamesItsSchema(string text)
    {
        var builder = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (!char.IsWhiteSpace(c))
                builder.Append(c);
        }
        var compact = builder.ToString();
        const string start = "{\"$schema\":\"", end = "\"}";
        if (compact.Length < start.Length + end.Length || !compact.StartsWith(start, StringComparison.Ordinal) || !compact.EndsWith(end, StringComparison.Ordinal))
            return false;
        var value = compact[start.Length..^end.Length];
        return !value.Contains('"', StringComparison.Ordinal) && !value.Contains('\\', StringComparison.Ordinal);
    }

    private object? ConvertJson(ParameterDescriptor parameter, JsonElement element, string path, string repositoryRoot)
    {
        var where = $"{parameter.MemberName} in {path}";
        List<string> texts = element.ValueKind switch
        {
            JsonValueKind.Array => [.. element.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText())],
            JsonValueKind.String => parameter.IsList ? [.. element.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : [element.GetString()!],
            JsonValueKind.Null => [],
            _ => [element.GetRawText()],
        };
        if (element.ValueKind == JsonValueKind.Null)
            return null;
        var value = Convert(parameter, texts, where);
        // As in NUKE: a path in a file means the same whatever folder the build is started from.
        return _pathMembers.Contains(parameter.MemberName) && value is string relative ? Path.GetFullPath(relative, repositoryRoot) : value;
    }

    /// <summary>Converts raw words into the parameter's type; <paramref name="where"/> names the source in errors.</summary>
    public static object? Convert(ParameterDescriptor parameter, IReadOnlyList<string> values, string where)
    {
        if (parameter.IsFlag)
        {
            if (values.Count == 0)
                return true;
            if (values.Count == 1 && TryParseBool(values[0], out var flag))
                return flag;
            throw new UsageException($"{where} is a switch and takes no value (or true/false); got '{Shown(parameter, values)}'.",
                $"Write {parameter.Flag} alone, or move '{Shown(parameter, values)}' before the first option if it is a target.");
        }

        if (parameter.IsList)
        {
            var items = values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            // An empty list would silently mean the default (e.g. every default image); only a list whose emptiness means something (--skip alone) may be empty.
            if (items.Count == 0 && !parameter.Attribute.EmptyListMeansSomething)
                throw new UsageException($"{where} was given an empty list.",
                    $"Name at least one value ({parameter.Flag} a,b or {parameter.Flag} a b), or leave {parameter.Flag} out for the default.");
            var array = Array.CreateInstance(parameter.ElementType, items.Count);
            for (var i = 0; i < items.Count; i++)
                array.SetValue(ConvertOne(parameter, items[i], where), i);
            return array;
        }

        if (values.Count == 0)
            throw new UsageException($"{where} needs a value ({parameter.TypeName}).", $"e.g. {parameter.Flag} {Example(parameter)}");
        if (values.Count > 1)
            throw new UsageException($"{where} takes one value ({parameter.TypeName}); got '{Shown(parameter, values)}'.",
                parameter.ElementType == typeof(TimeSpan) ? "Write durations as 90s, 10m, 1h or plain seconds." : $"Quote the value if it contains spaces, e.g. {parameter.Flag} \"{Shown(parameter, values)}\".");
        return ConvertOne(parameter, values[0], where);
    }

    private static object ConvertOne(ParameterDescriptor parameter, string text, string where)
    {
        var type = parameter.ElementType;
        if (type == typeof(string))
            return text;
        if (type == typeof(bool))
            return TryParseBool(text, out var flag) ? flag : throw new UsageException($"{where} expects true or false; got '{Shown(parameter, [text])}'.");
        if (type == typeof(int))
        {
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
                throw new UsageException($"{where} expects a whole number; got '{Shown(parameter, [text])}'.");
            if (parameter.Attribute.Positive && number <= 0)
                throw new UsageException($"{where} must be greater than zero; got {Shown(parameter, [text])}.");
            if (number < parameter.Attribute.Minimum)
                throw new UsageException($"{where} must be at least {parameter.Attribute.Minimum}; got {Shown(parameter, [text])}.");
            return number;
        }
        if (type == typeof(TimeSpan))
        {
            if (!Durations.TryParse(text, out var duration))
                throw new UsageException($"{where} expects a duration like 90s, 10m, 1h or plain seconds; got '{Shown(parameter, [text])}'.");
            if (parameter.Attribute.Positive && duration <= TimeSpan.Zero)
                throw new UsageException($"{where} must be longer than zero; got '{Shown(parameter, [text])}'.");
            if (duration > Durations.Maximum)
                throw new UsageException($"{where} must be at most {Durations.Format(Durations.Maximum)}; got '{Shown(parameter, [text])}'.",
                    $"Write a duration up to {Durations.Format(Durations.Maximum)}, e.g. {parameter.Flag} 30m.");
            return duration;
        }
        if (type.IsEnum)
        {
            var match = Enum.GetNames(type).FirstOrDefault(n => string.Equals(ParameterDescriptor.Kebab(n), text, StringComparison.OrdinalIgnoreCase) || string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
            return match is not null
                ? Enum.Parse(type, match)
                : throw new UsageException($"{where} does not accept '{Shown(parameter, [text])}'.{(parameter.IsSecret ? "" : Suggestions.DidYouMean(text, parameter.AllowedValues!))}",
                    $"Allowed values: {string.Join(", ", parameter.AllowedValues!)}.");
        }
        throw new InvalidOperationException($"Parameter type {type} is not supported.");
    }

    // Even a value too short for the secret registry never appears in a message about a secret parameter.
    private static string Shown(ParameterDescriptor parameter, IEnumerable<string> values) =>
        parameter.IsSecret ? SecretRegistry.Mask : string.Join(' ', values);

    private static string Example(ParameterDescriptor parameter) => parameter.ElementType switch
    {
        var t when t == typeof(int) => "4",
        var t when t == typeof(TimeSpan) => "10m",
        var t when t.IsEnum => parameter.AllowedValues![0],
        _ => "<value>",
    };

    private static bool TryParseBool(string text, out bool value)
    {
        switch (text.ToLowerInvariant())
        {
            case "true" or "yes" or "1" or "on":
                value = true;
                return true;
            case "false" or "no" or "0" or "off":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }
}
