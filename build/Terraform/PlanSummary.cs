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

/// <summary>One resource the plan changes: its address and what happens to it. No attribute values, ever.</summary>
public sealed record ResourceChange(string Address, ResourceAction Action)
{
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

    public bool HasChanges => Changes.Count > 0;

    public bool HasDestroyOrReplace => Changes.Any(c => c.DestroysSomething);

    public IEnumerable<ResourceChange> DestroyedOrReplaced => Changes.Where(c => c.DestroysSomething);

    /// <summary>Terraform's own wording: <c>Plan: 1 to add, 2 to change, 0 to destroy.</c> plus replacements.</summary>
    public string CountsLine => HasChanges
        ? $"{ToAdd} to add, {ToChange} to change, {ToDestroy} to destroy" + (ToReplace > 0 ? $" ({ToReplace} replaced)" : "")
        : "no changes";

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
                    changes.Add(new ResourceChange(name, action));
            }
        }
        return new PlanSummary(changes);
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
        }
        if (HasChanges)
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
