using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>
/// One way a project stack departs from the live contract (issue 14 §1): the subject (an address, variable.x,
/// output.x, local.x, provider.x, required_providers.x), the fact that differs, and the live and new values as written.
/// </summary>
internal sealed record ContractDifference(string Subject, string Fact, string? Live, string? New)
{
    /// <summary>What the takeover counts: a live address that would be destroyed or orphaned.</summary>
    public bool AddressNotKept => Fact is "address not kept" or "moved across types" or "destroyed by a removed block";

    public bool MajorChanged => Fact is "provider major" or "module major" or "provider source" or "module source";

    public bool VariableMissing => Fact is "variable missing" or "variable default removed";

    public bool NewVariableWithoutDefault => Fact == "variable added without default";

    public bool OutputMissing => Fact == "output missing";

    public override string ToString() => $"{Subject}: {Fact}" + (Live is null && New is null ? "" : $" (live: {Shorten(Live)}; new: {Shorten(New)})");

    private static string Shorten(string? value) => value is null ? "—" : value.Length <= 160 ? value : value[..157] + "…";
}

/// <summary>
/// The facts of one stack as tests/tools/hcl2json/terraform-facts.js derives them: the same code reads the live
/// stacks into the committed fixture and the project's stacks here, so both sides are normalised alike.
/// </summary>
internal sealed record StackFacts(JsonElement Json)
{
    public IReadOnlyDictionary<string, JsonElement> Section(string name) =>
        Json.TryGetProperty(name, out var section) && section.ValueKind == JsonValueKind.Object
            ? section.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal)
            : new Dictionary<string, JsonElement>(StringComparer.Ordinal);

    public IEnumerable<JsonElement> Blocks(string name) =>
        Json.TryGetProperty(name, out var blocks) && blocks.ValueKind == JsonValueKind.Array ? blocks.EnumerateArray() : [];

    public string? Text(string name) => Json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>Compares a project stack with the live one (pure): every difference named, none hidden.</summary>
internal static partial class TerraformContract
{
    public static IReadOnlyList<ContractDifference> Compare(StackFacts live, StackFacts project)
    {
        var differences = new List<ContractDifference>();
        void Add(string subject, string fact, string? liveValue = null, string? newValue = null) => differences.Add(new(subject, fact, liveValue, newValue));

        if (live.Text("required_version") != project.Text("required_version"))
            Add("terraform", "required_version", live.Text("required_version"), project.Text("required_version"));
        if (live.Text("backend") != project.Text("backend"))
            Add("terraform", "backend", live.Text("backend"), project.Text("backend"));

        CompareRequiredProviders(live, project, Add);
        CompareProviderConfigurations(live.Section("providers"), project.Section("providers"), Add);
        CompareAddresses(live, project, Add);
        CompareLocals(live.Section("locals"), project.Section("locals"), Add);
        CompareVariables(live.Section("variables"), project.Section("variables"), Add);
        CompareOutputs(live.Section("outputs"), project.Section("outputs"), Add);
        return differences;
    }

    private static void CompareRequiredProviders(StackFacts live, StackFacts project, Action<string, string, string?, string?> add)
    {
        var liveProviders = live.Section("required_providers");
        var newProviders = project.Section("required_providers");
        foreach (var (name, spec) in liveProviders)
        {
            var subject = $"required_providers.{name}";
            if (!newProviders.TryGetValue(name, out var newSpec))
            {
                add(subject, "provider missing", Text(spec, "source"), null);
                continue;
            }
            if (Text(spec, "source") != Text(newSpec, "source"))
                add(subject, "provider source", Text(spec, "source"), Text(newSpec, "source"));
            var (liveVersion, newVersion) = (Text(spec, "version"), Text(newSpec, "version"));
            if (liveVersion == newVersion)
                continue;
            add(subject, Major(liveVersion) == Major(newVersion) ? "provider constraint" : "provider major", liveVersion, newVersion);
        }
        foreach (var name in newProviders.Keys.Except(liveProviders.Keys))
            add($"required_providers.{name}", "provider added", null, $"{Text(newProviders[name], "source")} {Text(newProviders[name], "version")}");
    }

    private static void CompareProviderConfigurations(IReadOnlyDictionary<string, JsonElement> live, IReadOnlyDictionary<string, JsonElement> project, Action<string, string, string?, string?> add)
    {
        foreach (var name in live.Keys.Union(project.Keys).Order(StringComparer.Ordinal))
        {
            var subject = $"provider.{name}";
            if (!project.TryGetValue(name, out var newConfiguration))
                add(subject, "provider configuration missing", null, null);
            else if (!live.TryGetValue(name, out var liveConfiguration))
                add(subject, "provider configuration added", null, null);
            else
                CompareMaps(subject, Properties(liveConfiguration), Properties(newConfiguration), "argument", add);
        }
    }

    private static Dictionary<string, JsonElement> Properties(JsonElement element) =>
        element.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);

    private static void CompareAddresses(StackFacts live, StackFacts project, Action<string, string, string?, string?> add)
    {
        var liveAddresses = live.Section("addresses");
        var newAddresses = project.Section("addresses");
        var moved = project.Blocks("moved").Select(m => (From: m.GetProperty("from").GetString()!, To: m.GetProperty("to").GetString()!)).ToList();
        var removed = project.Blocks("removed").Select(r => (From: r.GetProperty("from").GetString()!, Destroy: r.GetProperty("destroy").GetBoolean())).ToList();
        var imported = project.Blocks("import").Select(i => i.GetProperty("to").GetString()!).ToHashSet(StringComparer.Ordinal);
        var movedTargets = new HashSet<string>(StringComparer.Ordinal);

        foreach (var (address, liveBlock) in liveAddresses)
        {
            var type = Text(liveBlock, "type");
            if (newAddresses.TryGetValue(address, out var newBlock))
            {
                CompareBlocks(address, liveBlock, newBlock, add);
                continue;
            }
            if (moved.FirstOrDefault(m => m.From == address) is { From: not null } move)
            {
                var target = BaseAddress(move.To);
                if (!newAddresses.TryGetValue(target, out var targetBlock))
                    add(address, "moved to a missing address", address, move.To);
                else if (Text(targetBlock, "type") != type)
                    add(address, "moved across types", type, Text(targetBlock, "type"));
                else
                {
                    movedTargets.Add(target);
                    CompareBlocks(address, liveBlock, targetBlock, add);
                }
                continue;
            }
            if (removed.FirstOrDefault(r => r.From == address) is { From: not null } removal)
            {
                if (removal.Destroy)
                    add(address, "destroyed by a removed block", type, null);
                else
                    add(address, "removed from the state (destroy = false)", type, null);
                continue;
            }
            add(address, Text(liveBlock, "kind") == "data" ? "data source missing" : "address not kept", type, null);
        }

        foreach (var (address, block) in newAddresses.Where(a => !liveAddresses.ContainsKey(a.Key) && !movedTargets.Contains(a.Key)))
            add(address, imported.Contains(address) ? "address imported" : Text(block, "kind") == "data" ? "data source added" : "address added", null, Text(block, "type"));
        foreach (var move in moved.Where(m => !liveAddresses.ContainsKey(m.From)))
            add(move.From, "moved block from an address the live stack does not have", null, move.To);
    }

    private static void CompareBlocks(string address, JsonElement live, JsonElement project, Action<string, string, string?, string?> add)
    {
        if (Text(live, "kind") == "module")
        {
            var (liveSource, newSource) = (Text(live, "source"), Text(project, "source"));
            if (liveSource != newSource)
                add(address, "module source", liveSource, newSource);
            var (liveVersion, newVersion) = (Text(live, "version"), Text(project, "version"));
            if (!ModuleVersionKept(liveVersion, newVersion))
                add(address, Major(liveVersion) == Major(newVersion) ? "module version" : "module major", liveVersion, newVersion);
        }
        CompareMaps(address, Object(live, "arguments"), Object(project, "arguments"), "argument", add);
    }

    private static void CompareMaps(string subject, IReadOnlyDictionary<string, JsonElement> live, IReadOnlyDictionary<string, JsonElement> project, string fact,
        Action<string, string, string?, string?> add)
    {
        foreach (var (key, liveValue, newValue) in Changed(live, project))
            add(subject, $"{fact} {key}", liveValue, newValue);
    }

    private static void CompareLocals(IReadOnlyDictionary<string, JsonElement> live, IReadOnlyDictionary<string, JsonElement> project, Action<string, string, string?, string?> add)
    {
        foreach (var (name, liveValue, newValue) in Changed(live, project))
            add($"local.{name}", liveValue is null ? "local added" : newValue is null ? "local missing" : "local value", liveValue, newValue);
    }

    /// <summary>The keys whose values differ (or exist on one side only), with both values as displayed.</summary>
    private static IEnumerable<(string Key, string? Live, string? New)> Changed(IReadOnlyDictionary<string, JsonElement> live, IReadOnlyDictionary<string, JsonElement> project)
    {
        foreach (var key in live.Keys.Union(project.Keys).Order(StringComparer.Ordinal))
        {
            var hasLive = live.TryGetValue(key, out var liveValue);
            var hasNew = project.TryGetValue(key, out var newValue);
            if (!(hasLive && hasNew && Same(liveValue, newValue)))
                yield return (key, hasLive ? Display(liveValue) : null, hasNew ? Display(newValue) : null);
        }
    }

    private static void CompareVariables(IReadOnlyDictionary<string, JsonElement> live, IReadOnlyDictionary<string, JsonElement> project, Action<string, string, string?, string?> add)
    {
        foreach (var (name, liveVariable) in live)
        {
            var subject = $"variable.{name}";
            if (!project.TryGetValue(name, out var newVariable))
            {
                add(subject, "variable missing", Text(liveVariable, "type"), null);
                continue;
            }
            if (Text(liveVariable, "type") != Text(newVariable, "type"))
                add(subject, "variable type", Text(liveVariable, "type"), Text(newVariable, "type"));
            if (Bool(liveVariable, "has_default") && !Bool(newVariable, "has_default"))
                add(subject, "variable default removed", "default", "no default");
            if (Bool(liveVariable, "sensitive") && !Bool(newVariable, "sensitive"))
                add(subject, "variable no longer sensitive", "sensitive", "not sensitive");
        }
        foreach (var (name, variable) in project.Where(v => !live.ContainsKey(v.Key)))
            add($"variable.{name}", Bool(variable, "has_default") ? "variable added" : "variable added without default", null, Text(variable, "type"));
    }

    private static void CompareOutputs(IReadOnlyDictionary<string, JsonElement> live, IReadOnlyDictionary<string, JsonElement> project, Action<string, string, string?, string?> add)
    {
        foreach (var (name, liveOutput) in live)
        {
            var subject = $"output.{name}";
            if (!project.TryGetValue(name, out var newOutput))
            {
                add(subject, "output missing", Display(liveOutput.GetProperty("value")), null);
                continue;
            }
            if (!Same(liveOutput.GetProperty("value"), newOutput.GetProperty("value")))
                add(subject, "output value", Display(liveOutput.GetProperty("value")), Display(newOutput.GetProperty("value")));
            if (Bool(liveOutput, "sensitive") != Bool(newOutput, "sensitive"))
                add(subject, "output sensitive", Bool(liveOutput, "sensitive").ToString(), Bool(newOutput, "sensitive").ToString());
        }
        foreach (var name in project.Keys.Except(live.Keys))
            add($"output.{name}", "output added", null, Display(project[name].GetProperty("value")));
    }

    /// <summary>
    /// A module pinned to an exact version inside the live constraint is the code a fresh live <c>init</c> picks
    /// (modules are not in the lock file): kept. Anything else is a version change.
    /// </summary>
    public static bool ModuleVersionKept(string? liveConstraint, string? newVersion)
    {
        if (liveConstraint == newVersion)
            return true;
        if (newVersion is null || liveConstraint is null || !Version.TryParse(newVersion, out var pinned))
            return false;
        return Satisfies(pinned, liveConstraint);
    }

    /// <summary>Terraform's <c>~&gt; X.Y</c> (≥ X.Y, &lt; X+1) and <c>~&gt; X.Y.Z</c> (≥ X.Y.Z, &lt; X.Y+1), and plain comparisons.</summary>
    public static bool Satisfies(Version version, string constraint) => constraint.Split(',', StringSplitOptions.TrimEntries).All(part =>
    {
        var match = ConstraintPart().Match(part);
        if (!match.Success || !Version.TryParse(Pad(match.Groups["version"].Value), out var bound))
            return false;
        var parts = match.Groups["version"].Value.Split('.').Length;
        return match.Groups["op"].Value switch
        {
            "~>" when parts >= 3 => version >= bound && version < new Version(bound.Major, bound.Minor + 1, 0),
            "~>" => version >= bound && version < new Version(bound.Major + 1, 0, 0),
            ">=" => version >= bound,
            ">" => version > bound,
            "<=" => version <= bound,
            "<" => version < bound,
            "!=" => version != bound,
            _ => version == bound,
        };
    });

    private static string Pad(string version) => version.Split('.').Length switch { 1 => version + ".0.0", 2 => version + ".0", _ => version };

    /// <summary>The major version of a constraint or version (<c>~&gt; 5.30</c> → 5, <c>20.37.2</c> → 20).</summary>
    public static int? Major(string? constraint) =>
        constraint is not null && MajorPattern().Match(constraint) is { Success: true } match ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary><c>aws_ecr_repository.catalog["backend"]</c> → <c>aws_ecr_repository.catalog</c>.</summary>
    public static string BaseAddress(string address)
    {
        var index = address.IndexOf('[', StringComparison.Ordinal);
        return index < 0 ? address : address[..index];
    }

    // The fixture is indented, the tool's stdout is not: compare compact serialisations.
    private static bool Same(JsonElement a, JsonElement b) => a.ValueKind == b.ValueKind && Compact(a) == Compact(b);

    private static string Compact(JsonElement value) => JsonSerializer.Serialize(value);

    /// <summary>Strings as written, everything else as compact JSON.</summary>
    public static string Display(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : Compact(value);

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool Bool(JsonElement element, string name) => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    private static IReadOnlyDictionary<string, JsonElement> Object(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal)
            : new Dictionary<string, JsonElement>(StringComparer.Ordinal);

    [GeneratedRegex(@"^\s*(?<op>~>|>=|<=|!=|>|<|=)?\s*v?(?<version>\d+(\.\d+){0,2})\s*$")]
    private static partial Regex ConstraintPart();

    [GeneratedRegex(@"(\d+)")]
    private static partial Regex MajorPattern();
}

/// <summary>Runs tests/tools/hcl2json/terraform-facts.js on a stack folder and reads the committed live fixture.</summary>
internal static class TerraformFactsTool
{
    public const string FixturePath = "tests/Tesslate.Build.Tests/Infrastructure/live-terraform.json";

    public static async Task<StackFacts> StackAsync(string directory, CancellationToken cancellationToken) =>
        new(await Hcl2Json.RunAsync("terraform-facts.js", ["stack", directory], cancellationToken));

    public static JsonElement Fixture()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(InfrastructureLayout.Full(FixturePath)));
        return document.RootElement.Clone();
    }

    public static StackFacts Live(string stack) => new(Fixture().GetProperty("stacks").GetProperty(stack));
}
