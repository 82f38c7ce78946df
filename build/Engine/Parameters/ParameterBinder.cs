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

    public ParameterBinder(object build, string environmentPrefix)
    {
        _build = build;
        Parameters = Discover(build, environmentPrefix);
        _byName = Parameters.ToDictionary(p => p.Name.Replace("-", "", StringComparison.Ordinal), StringComparer.OrdinalIgnoreCase);
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
                if (member.GetCustomAttribute<ParameterAttribute>() is not { } attribute)
                    continue;
                var value = member is FieldInfo f ? f.GetValue(build) : ((PropertyInfo)member).GetValue(build);
                members.Add(new ParameterDescriptor(member, attribute, environmentPrefix, value));
            }
        }
        return members;
    }

    /// <param name="nukeDirectory">The <c>.nuke</c> folder holding parameters*.json.</param>
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
            fromCli[parameter] = values; // the last occurrence wins
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
            else if (environment.TryGetValue(parameter.EnvironmentVariable, out var text))
            {
                value = Convert(parameter, SplitEnvironmentValue(parameter, text), $"environment variable {parameter.EnvironmentVariable}");
                source = ParameterSource.EnvironmentVariable;
            }
            else if (FromFiles(parameter, nukeDirectory, profiles) is { } fileValue)
            {
                (value, source) = fileValue;
            }
            else
            {
                continue;
            }
            parameter.SetValue(_build, value);
            Sources[parameter.MemberName] = source;
            if (parameter.IsSecret)
                RegisterSecret(value);
        }

        foreach (var parameter in Parameters.Where(p => p.IsSecret))
            RegisterSecret(parameter.GetValue(_build));
    }

    private static void RegisterSecret(object? value)
    {
        if (value is string text)
            Secrets.Register(text);
        else if (value is string[] texts)
            Array.ForEach(texts, Secrets.Register);
    }

    private static List<string> SplitEnvironmentValue(ParameterDescriptor parameter, string text) =>
        parameter.IsList ? [.. text.Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : [text];

    private readonly Dictionary<string, JsonDocument?> _files = [];

    private (object? Value, ParameterSource Source)? FromFiles(ParameterDescriptor parameter, string nukeDirectory, IReadOnlyList<string> profiles)
    {
        // Later profiles override earlier ones; the default file is lowest.
        foreach (var profile in profiles.Reverse())
        {
            var path = Path.Combine(nukeDirectory, $"parameters.{profile}.json");
            if (!File.Exists(path))
                throw new UsageException($"Profile '{profile}' has no file {path}.", $"Create it, or choose one of: {string.Join(", ", ListProfiles(nukeDirectory).DefaultIfEmpty("(none)"))}.");
            if (Lookup(path, parameter) is { } element)
                return (ConvertJson(parameter, element, path), ParameterSource.ProfileFile);
        }
        var defaults = Path.Combine(nukeDirectory, "parameters.json");
        if (File.Exists(defaults) && Lookup(defaults, parameter) is { } value)
            return (ConvertJson(parameter, value, defaults), ParameterSource.ParametersFile);
        return null;
    }

    public static IEnumerable<string> ListProfiles(string nukeDirectory) =>
        Directory.Exists(nukeDirectory)
            ? Directory.GetFiles(nukeDirectory, "parameters.*.json").Select(f => Path.GetFileName(f)["parameters.".Length..^".json".Length]).Order()
            : [];

    private JsonElement? Lookup(string path, ParameterDescriptor parameter)
    {
        if (!_files.TryGetValue(path, out var document))
        {
            try
            {
                document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            }
            catch (JsonException error)
            {
                throw new UsageException($"{path} is not valid JSON at line {error.LineNumber + 1}, position {error.BytePositionInLine + 1}: {error.Message.Split(" Path:")[0]}",
                    "Fix the file; its keys are parameter names in PascalCase, e.g. { \"Environment\": \"beta\" }.");
            }
            _files[path] = document;
        }
        if (document!.RootElement.ValueKind != JsonValueKind.Object)
            throw new UsageException($"{path} must hold a JSON object.", "e.g. { \"Environment\": \"beta\" }");
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (string.Equals(property.Name, parameter.MemberName, StringComparison.OrdinalIgnoreCase))
                return property.Value;
        }
        return null;
    }

    private static object? ConvertJson(ParameterDescriptor parameter, JsonElement element, string path)
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
        return Convert(parameter, texts, where);
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
            throw new UsageException($"{where} is a switch and takes no value (or true/false); got '{string.Join(' ', values)}'.",
                $"Write {parameter.Flag} alone, or move '{string.Join(' ', values)}' before the first option if it is a target.");
        }

        if (parameter.IsList)
        {
            var items = values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var array = Array.CreateInstance(parameter.ElementType, items.Count);
            for (var i = 0; i < items.Count; i++)
                array.SetValue(ConvertOne(parameter, items[i], where), i);
            return array;
        }

        if (values.Count == 0)
            throw new UsageException($"{where} needs a value ({parameter.TypeName}).", $"e.g. {parameter.Flag} {Example(parameter)}");
        if (values.Count > 1)
            throw new UsageException($"{where} takes one value ({parameter.TypeName}); got '{string.Join(' ', values)}'.",
                parameter.ElementType == typeof(TimeSpan) ? "Write durations as 90s, 10m, 1h or plain seconds." : $"Quote the value if it contains spaces, e.g. {parameter.Flag} \"{string.Join(' ', values)}\".");
        return ConvertOne(parameter, values[0], where);
    }

    private static object ConvertOne(ParameterDescriptor parameter, string text, string where)
    {
        var type = parameter.ElementType;
        if (type == typeof(string))
            return text;
        if (type == typeof(bool))
            return TryParseBool(text, out var flag) ? flag : throw new UsageException($"{where} expects true or false; got '{text}'.");
        if (type == typeof(int))
        {
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
                throw new UsageException($"{where} expects a whole number; got '{text}'.");
            if (parameter.Attribute.Positive && number <= 0)
                throw new UsageException($"{where} must be greater than zero; got {number}.");
            if (number < parameter.Attribute.Minimum)
                throw new UsageException($"{where} must be at least {parameter.Attribute.Minimum}; got {number}.");
            return number;
        }
        if (type == typeof(TimeSpan))
        {
            if (!Durations.TryParse(text, out var duration))
                throw new UsageException($"{where} expects a duration like 90s, 10m, 1h or plain seconds; got '{text}'.");
            if (parameter.Attribute.Positive && duration <= TimeSpan.Zero)
                throw new UsageException($"{where} must be longer than zero; got '{text}'.");
            return duration;
        }
        if (type.IsEnum)
        {
            var match = Enum.GetNames(type).FirstOrDefault(n => string.Equals(ParameterDescriptor.Kebab(n), text, StringComparison.OrdinalIgnoreCase) || string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
            return match is not null
                ? Enum.Parse(type, match)
                : throw new UsageException($"{where} does not accept '{text}'.{Suggestions.DidYouMean(text, parameter.AllowedValues!)}",
                    $"Allowed values: {string.Join(", ", parameter.AllowedValues!)}.");
        }
        throw new InvalidOperationException($"Parameter type {type} is not supported.");
    }

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
