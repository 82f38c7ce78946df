using System.Text.Json;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Terraform;

/// <summary>One output of <c>terraform output -json</c>.</summary>
public sealed record TerraformOutput(string Name, bool Sensitive, JsonElement Value)
{
    public override string ToString() => Sensitive ? $"{Name} (sensitive)" : $"{Name} = {Value.GetRawText()}";
}

/// <summary>The stack's outputs, parsed; sensitive string values are registered as secrets as they are read.</summary>
public sealed class TerraformOutputs
{
    private readonly Dictionary<string, TerraformOutput> _outputs;

    private TerraformOutputs(Dictionary<string, TerraformOutput> outputs) => _outputs = outputs;

    public IReadOnlyCollection<string> Names => _outputs.Keys;

    public static TerraformOutputs Parse(string json)
    {
        using var document = JsonDocument.Parse(json.Trim().Length == 0 ? "{}" : json);
        var outputs = new Dictionary<string, TerraformOutput>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            var sensitive = property.Value.TryGetProperty("sensitive", out var flag) && flag.ValueKind == JsonValueKind.True;
            var value = property.Value.TryGetProperty("value", out var v) ? v.Clone() : default;
            if (sensitive)
                RegisterStrings(value);
            outputs[property.Name] = new TerraformOutput(property.Name, sensitive, value);
        }
        return new TerraformOutputs(outputs);
    }

    public TerraformOutput? TryGet(string name) => _outputs.GetValueOrDefault(name);

    public string? TryGetString(string name) =>
        TryGet(name) is { Value.ValueKind: JsonValueKind.String } output ? output.Value.GetString() : null;

    /// <summary>A string output the caller cannot do without; missing means the stack was not applied yet.</summary>
    public string GetString(string name) => TryGetString(name) ?? throw new BuildFailure(
        $"Terraform has no string output '{name}' (outputs present: {(Names.Count == 0 ? "none" : string.Join(", ", Names.Order()))}).",
        "Apply the stack first, or check the output's name in the stack's outputs.tf.");

    private static void RegisterStrings(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                Secrets.Register(value.GetString());
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                    RegisterStrings(item);
                break;
            case JsonValueKind.Object:
                foreach (var item in value.EnumerateObject())
                    RegisterStrings(item.Value);
                break;
        }
    }
}
