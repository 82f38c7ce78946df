using System.Reflection;
using System.Text;

namespace Tesslate.Build.Engine;

/// <summary>Everything the engine knows about one parameter: names, type, allowed values, default.</summary>
public sealed class ParameterDescriptor
{
    private static readonly string[] KnownWords = ["GitHub"];

    internal ParameterDescriptor(MemberInfo member, ParameterAttribute attribute, string environmentPrefix, object? defaultValue)
    {
        Member = member;
        Attribute = attribute;
        MemberName = member.Name.TrimStart('_');
        MemberName = char.ToUpperInvariant(MemberName[0]) + MemberName[1..];
        Name = attribute.Name ?? Kebab(MemberName);
        EnvironmentVariable = environmentPrefix + Name.Replace('-', '_').ToUpperInvariant();
        Type = member is FieldInfo field ? field.FieldType : ((PropertyInfo)member).PropertyType;
        IsList = Type.IsArray;
        ElementType = Nullable.GetUnderlyingType(IsList ? Type.GetElementType()! : Type) ?? (IsList ? Type.GetElementType()! : Type);
        IsSecret = System.Attribute.IsDefined(member, typeof(SecretAttribute));
        DefaultValue = defaultValue;
    }

    public MemberInfo Member { get; }
    public ParameterAttribute Attribute { get; }
    public string MemberName { get; }
    public string Name { get; }
    public string Flag => "--" + Name;
    public string EnvironmentVariable { get; }
    public Type Type { get; }
    public Type ElementType { get; }
    public bool IsList { get; }
    public bool IsSecret { get; }
    public bool IsFlag => ElementType == typeof(bool) && !IsList;
    public object? DefaultValue { get; }
    public string Description => Attribute.Description;

    public IReadOnlyList<string>? AllowedValues => ElementType.IsEnum ? [.. Enum.GetNames(ElementType).Select(Kebab)] : null;

    public string TypeName => (ElementType switch
    {
        var t when t == typeof(string) => "text",
        var t when t == typeof(bool) => "bool",
        var t when t == typeof(int) => "number",
        var t when t == typeof(TimeSpan) => "duration",
        var t when t.IsEnum => string.Join('|', AllowedValues!),
        var t => t.Name,
    }) + (IsList ? ", list" : string.Empty);

    public string DisplayDefault => IsSecret && DefaultValue is not null ? SecretRegistry.Mask : Display(DefaultValue);

    public static string Display(object? value) => value switch
    {
        null => "",
        string text => text,
        bool flag => flag ? "true" : "false",
        TimeSpan span => Durations.Format(span),
        Enum e => Kebab(e.ToString()),
        Array array => string.Join(',', array.Cast<object?>().Select(Display)),
        _ => value.ToString() ?? "",
    };

    internal void SetValue(object target, object? value)
    {
        switch (Member)
        {
            case FieldInfo field:
                field.SetValue(target, value);
                break;
            case PropertyInfo property:
                property.SetValue(target, value);
                break;
        }
    }

    internal object? GetValue(object target) => Member switch
    {
        FieldInfo field => field.GetValue(target),
        PropertyInfo property => property.GetValue(target),
        _ => null,
    };

    /// <summary>PascalCase → kebab-case, keeping known words whole (GitHubToken → github-token).</summary>
    public static string Kebab(string name)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            var known = KnownWords.FirstOrDefault(w => string.CompareOrdinal(name, i, w, 0, w.Length) == 0);
            if (known is not null)
            {
                if (builder.Length > 0) builder.Append('-');
                builder.Append(known.ToLowerInvariant());
                i += known.Length - 1;
                continue;
            }
            var c = name[i];
            var startsWord = char.IsUpper(c) && builder.Length > 0 && builder[^1] != '-'
                && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])));
            if (startsWord)
                builder.Append('-');
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }
}
