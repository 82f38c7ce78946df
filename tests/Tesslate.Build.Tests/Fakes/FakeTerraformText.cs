using System.Text;
using System.Text.Json.Nodes;

namespace Tesslate.Build.Tests.Terraform;

/// <summary>
/// What real terraform prints without <c>-json</c> (for FakeTerraform): human text, never JSON, so a caller that
/// forgets the flag fails to parse it as it would against the real binary. Attribute values are left out.
/// </summary>
internal static class FakeTerraformText
{
    /// <summary><c>terraform show PLANFILE</c>: the symbols legend, one header per changed resource, the Plan line.</summary>
    public static string Plan(string planJson)
    {
        var changes = (JsonNode.Parse(planJson)?["resource_changes"] as JsonArray ?? [])
            .Select(c => (Address: (string?)c?["address"] ?? "?", Type: (string?)c?["type"] ?? "?", Name: (string?)c?["name"] ?? "?",
                Actions: string.Join(",", (c?["change"]?["actions"] as JsonArray ?? []).Select(a => (string?)a))))
            .Where(c => c.Actions is not ("no-op" or ""))
            .ToList();
        if (changes.All(c => c.Actions == "read"))
            return "No changes. Your infrastructure matches the configuration.\n\nTerraform has compared your real infrastructure against your configuration\nand found no differences, so no changes are needed.\n";
        var text = new StringBuilder();
        text.Append("Terraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n")
            .Append("  + create\n  ~ update in-place\n  - destroy\n-/+ destroy and then create replacement\n+/- create replacement and then destroy\n\n")
            .Append("Terraform will perform the following actions:\n");
        var (add, change, destroy) = (0, 0, 0);
        foreach (var c in changes)
        {
            var (symbol, says) = c.Actions switch
            {
                "create" => ("  +", "will be created"),
                "update" => ("  ~", "will be updated in-place"),
                "delete" => ("  -", "will be destroyed"),
                "delete,create" => ("-/+", "must be replaced"),
                "create,delete" => ("+/-", "must be replaced"),
                _ => (" <=", "will be read during apply"),
            };
            add += c.Actions.Contains("create", StringComparison.Ordinal) ? 1 : 0;
            change += c.Actions == "update" ? 1 : 0;
            destroy += c.Actions.Contains("delete", StringComparison.Ordinal) ? 1 : 0;
            text.Append($"\n  # {c.Address} {says}\n{symbol} resource \"{c.Type}\" \"{c.Name}\" {{\n    }}\n");
        }
        return text.Append($"\nPlan: {add} to add, {change} to change, {destroy} to destroy.\n").ToString();
    }

    /// <summary>
    /// <c>terraform output</c>: <c>name = value</c> per output in name order, <c>&lt;sensitive&gt;</c> for sensitive ones;
    /// empty without outputs (the script then prints terraform's "No outputs found" warning on stderr).
    /// </summary>
    public static string Outputs(string outputsJson)
    {
        var outputs = JsonNode.Parse(outputsJson) as JsonObject ?? [];
        return string.Concat(outputs.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o =>
            $"{o.Key} = {((bool?)o.Value?["sensitive"] == true ? "<sensitive>" : Hcl(o.Value?["value"]))}\n"));
    }

    /// <summary><c>terraform version</c>: the version line and the platform.</summary>
    public static string Version(string versionJson)
    {
        var version = JsonNode.Parse(versionJson);
        return $"Terraform v{(string?)version?["terraform_version"]}\non {(string?)version?["platform"]}\n";
    }

    private static string Hcl(JsonNode? value) => value switch
    {
        null => "null",
        JsonArray list => "[\n" + string.Concat(list.Select(v => $"  {Hcl(v)},\n")) + "]",
        JsonObject map => "{\n" + string.Concat(map.Select(kv => $"  \"{kv.Key}\" = {Hcl(kv.Value)}\n")) + "}",
        _ => value.ToJsonString(),
    };
}
