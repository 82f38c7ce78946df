using System.Text;
using System.Text.Json;

namespace Tesslate.Build.Terraform;

public enum ResourceAction
{
    Create,
    Update,
    Delete,
    /// <summary>Delete then create (Terraform's default replacement order).</summary>
    Replace,
    /// <summary>Create the new object first, then delete the old one (<c>create_before_destroy</c>).</summary>
    ReplaceCreateBeforeDestroy,
}

/// <summary>One resource the plan changes: its address, its resource type and what happens to it. No attribute values, ever.</summary>
public sealed partial record ResourceChange(string Address, ResourceAction Action)
{
    /// <summary>The resource type (<c>aws_ecr_repository</c>), from the plan's <c>type</c>, else read from the address.</summary>
    public string Type { get; init; } = TypeOf(Address);

    /// <summary>The address without its instance key: <c>aws_ecr_repository.catalog["backend"]</c> → <c>aws_ecr_repository.catalog</c>.</summary>
    public string ResourceAddress => Address.EndsWith(']') && Address.LastIndexOf('[') is var i and >= 0 ? Address[..i] : Address;

    /// <summary>The resource's name, or its instance key when it has one (<c>backend</c> in both examples above).</summary>
    public string Name
    {
        get
        {
            var open = Address.LastIndexOf('[');
            if (open >= 0 && Address.EndsWith(']'))
                return Address[(open + 1)..^1].Trim('"');
            return ResourceAddress[(ResourceAddress.LastIndexOf('.') + 1)..];
        }
    }

    /// <summary><c>module.a.aws_x.y["k"]</c> → <c>aws_x</c>: the segment before the resource name, after any module path.</summary>
    public static string TypeOf(string address)
    {
        // Instance keys first (module.a["x.y"].b): they may hold dots.
        var parts = InstanceKey().Replace(address, string.Empty).Split('.');
        var start = 0;
        while (start + 1 < parts.Length && parts[start] == "module")
            start += 2;
        if (start < parts.Length && parts[start] == "data")
            start++;
        return start + 1 < parts.Length ? parts[start] : address;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\[[^\]]*\]")]
    private static partial System.Text.RegularExpressions.Regex InstanceKey();

    public bool DestroysSomething => Action is ResourceAction.Delete or ResourceAction.Replace or ResourceAction.ReplaceCreateBeforeDestroy;

    public string ActionText => Action switch
    {
        ResourceAction.Create => "create",
        ResourceAction.Update => "update",
        ResourceAction.Delete => "destroy",
        ResourceAction.Replace => "replace (destroy, then create)",
        _ => "replace (create, then destroy)",
    };
}

/// <summary>
/// What a saved plan will do, from <c>terraform show -json</c>: the counts of Terraform's own "Plan:" line (a
/// replacement counts as one add and one destroy) and the changed resources by address. Only these go to reports;
/// the plan JSON itself holds sensitive values in plain text and never leaves the private temp folder.
/// </summary>
public sealed record PlanSummary(IReadOnlyList<ResourceChange> Changes)
{
    public int ToAdd => Changes.Count(c => c.Action is ResourceAction.Create or ResourceAction.Replace or ResourceAction.ReplaceCreateBeforeDestroy);

    public int ToChange => Changes.Count(c => c.Action == ResourceAction.Update);

    public int ToDestroy => Changes.Count(c => c.DestroysSomething);

    public int ToReplace => Changes.Count(c => c.Action is ResourceAction.Replace or ResourceAction.ReplaceCreateBeforeDestroy);

    /// <summary>Root outputs whose value the plan changes (added, changed or removed): applying such a plan changes what people and scripts read.</summary>
    public IReadOnlyList<string> OutputChanges { get; init; } = [];

    /// <summary>
    /// The one rule for "this plan has changes": a resource or an output changes. It agrees with Terraform's
    /// <c>-detailed-exitcode</c> (2 for an outputs-only plan too), and an apply of such a plan is what updates the state.
    /// </summary>
    public bool HasChanges => Changes.Count > 0 || OutputChanges.Count > 0;

    public bool HasDestroyOrReplace => Changes.Any(c => c.DestroysSomething);

    public IEnumerable<ResourceChange> DestroyedOrReplaced => Changes.Where(c => c.DestroysSomething);

    /// <summary>
    /// Destroys a <c>moved</c> block could turn into a rename: a resource destroyed while another of the same type is
    /// created in this plan (Terraform moves state only within a type). The created address whose name or key equals
    /// the destroyed one's is the likely pair; without one, every created address of the type is a candidate.
    /// </summary>
    public IReadOnlyList<MoveHint> MoveHints
    {
        get
        {
            var created = Changes.Where(c => c.Action == ResourceAction.Create).ToList();
            var hints = new List<MoveHint>();
            foreach (var destroyed in Changes.Where(c => c.Action == ResourceAction.Delete))
            {
                var candidates = created.Where(c => c.Type == destroyed.Type).ToList();
                if (candidates.Count == 0)
                    continue;
                var named = candidates.Where(c => c.Name == destroyed.Name).ToList();
                hints.Add(new MoveHint(destroyed.Address, named.Count == 1 ? [named[0].Address] : [.. candidates.Select(c => c.Address)]));
            }
            return hints;
        }
    }

    /// <summary>The counts, every address destroyed or replaced, and what a moved block could explain: for logs and notes.</summary>
    public IReadOnlyList<string> Lines()
    {
        var lines = new List<string> { CountsLine };
        lines.AddRange(DestroyedOrReplaced.Select(c => $"  {c.ActionText}: {c.Address}"));
        lines.AddRange(MoveHints.Select(h => "  " + h.Text));
        return lines;
    }

    /// <summary>Terraform's own wording: <c>Plan: 1 to add, 2 to change, 0 to destroy.</c> plus replacements.</summary>
    public string CountsLine => !HasChanges ? "no changes"
        : $"{ToAdd} to add, {ToChange} to change, {ToDestroy} to destroy" + (ToReplace > 0 ? $" ({ToReplace} replaced)" : "")
          + (OutputChanges.Count > 0 ? $"; {OutputChanges.Count} output(s) changed" : "");

    /// <summary>Reads the resource changes of a JSON plan; read-only and no-op entries are left out.</summary>
    public static PlanSummary FromJson(string planJson)
    {
        using var document = JsonDocument.Parse(planJson);
        var changes = new List<ResourceChange>();
        if (document.RootElement.TryGetProperty("resource_changes", out var resourceChanges) && resourceChanges.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in resourceChanges.EnumerateArray())
            {
                if (!entry.TryGetProperty("address", out var address) || address.GetString() is not { } name)
                    continue;
                if (!entry.TryGetProperty("change", out var change) || !change.TryGetProperty("actions", out var actions))
                    continue;
                var list = actions.EnumerateArray().Select(a => a.GetString() ?? "").ToArray();
                if (Classify(list) is { } action)
                {
                    var type = entry.TryGetProperty("type", out var t) && t.GetString() is { Length: > 0 } declared ? declared : ResourceChange.TypeOf(name);
                    changes.Add(new ResourceChange(name, action) { Type = type });
                }
            }
        }
        var outputs = new List<string>();
        if (document.RootElement.TryGetProperty("output_changes", out var outputChanges) && outputChanges.ValueKind == JsonValueKind.Object)
        {
            foreach (var output in outputChanges.EnumerateObject())
            {
                if (output.Value.TryGetProperty("actions", out var actions) && actions.EnumerateArray().Any(a => a.GetString() is "create" or "update" or "delete"))
                    outputs.Add(output.Name);
            }
        }
        return new PlanSummary(changes) { OutputChanges = [.. outputs.Order(StringComparer.Ordinal)] };
    }

    /// <summary>Maps Terraform's action lists (<c>["create"]</c>, <c>["delete","create"]</c>, …) to one action.</summary>
    public static ResourceAction? Classify(IReadOnlyList<string> actions) => actions switch
    {
        ["create"] => ResourceAction.Create,
        ["update"] => ResourceAction.Update,
        ["delete"] => ResourceAction.Delete,
        ["delete", "create"] => ResourceAction.Replace,
        ["create", "delete"] => ResourceAction.ReplaceCreateBeforeDestroy,
        _ => null, // "no-op", "read", "forget" change nothing in the infrastructure
    };

    /// <summary>For the GitHub step summary: counts on top, destroys/replacements named, everything else collapsed.</summary>
    public string ToMarkdown(string title)
    {
        var text = new StringBuilder();
        text.Append("### ").Append(title).Append('\n').Append('\n');
        text.Append("**Plan:** ").Append(CountsLine).Append('\n');
        if (HasDestroyOrReplace)
        {
            text.Append('\n').Append("> [!WARNING]\n> This plan destroys or replaces resources:\n");
            foreach (var change in DestroyedOrReplaced)
                text.Append("> - `").Append(change.Address).Append("`: ").Append(change.ActionText).Append('\n');
            foreach (var hint in MoveHints)
                text.Append(">\n> ").Append(hint.Text).Append('\n');
        }
        if (Changes.Count > 0)
        {
            text.Append('\n').Append("<details><summary>").Append(Changes.Count).Append(" resource changes</summary>\n\n");
            text.Append("| Action | Address |\n|---|---|\n");
            foreach (var change in Changes.OrderBy(c => c.Action).ThenBy(c => c.Address, StringComparer.Ordinal))
                text.Append("| ").Append(change.ActionText).Append(" | `").Append(change.Address.Replace("|", "\\|", StringComparison.Ordinal)).Append("` |\n");
            text.Append("\n</details>\n");
        }
        return text.ToString();
    }
}

/// <summary>A destroy a moved block could explain: the destroyed address and the created one(s) of the same type.</summary>
public sealed record MoveHint(string Destroyed, IReadOnlyList<string> Created)
{
    public string Text => Created.Count == 1
        ? $"{Destroyed} destroyed while {Created[0]} is created: add a moved block"
        : $"{Destroyed} destroyed while {string.Join(", ", Created)} are created: if one of them is {Destroyed} renamed, add a moved block";
}
