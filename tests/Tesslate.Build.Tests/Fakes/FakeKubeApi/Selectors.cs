using System.Text.Json.Nodes;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>Label selectors (equality- and set-based) and field selectors, parsed from the query string.</summary>
internal sealed class Selector
{
    private readonly List<Func<JsonObject, bool>> _requirements = [];

    public static readonly Selector Everything = new();

    public bool Matches(JsonObject obj) => _requirements.All(r => r(obj));

    public static Selector Labels(string? text)
    {
        var selector = new Selector();
        foreach (var raw in SplitTopLevel(text))
        {
            var req = raw.Trim();
            if (req.Length == 0)
            {
                continue;
            }

            selector._requirements.Add(ParseLabelRequirement(req));
        }

        return selector;
    }

    /// <summary>A label selector object (matchLabels / matchExpressions), as workloads carry in spec.selector.</summary>
    public static Selector FromLabelSelector(JsonNode? selectorObject)
    {
        var selector = new Selector();
        if (selectorObject?["matchLabels"] is JsonObject ml)
        {
            foreach (var (k, v) in ml)
            {
                var value = v?.GetValue<string>();
                selector._requirements.Add(o => LabelOf(o, k) == value);
            }
        }

        if (selectorObject?["matchExpressions"] is JsonArray me)
        {
            foreach (var e in me.OfType<JsonObject>())
            {
                var key = e.Str("key") ?? "";
                var values = (e["values"] as JsonArray ?? []).Select(v => v?.GetValue<string>()).ToHashSet();
                Func<JsonObject, bool> req = e.Str("operator") switch
                {
                    "In" => o => LabelOf(o, key) is { } l && values.Contains(l),
                    "NotIn" => o => LabelOf(o, key) is not { } l || !values.Contains(l),
                    "Exists" => o => LabelOf(o, key) is not null,
                    "DoesNotExist" => o => LabelOf(o, key) is null,
                    var op => throw new KubeApiException(400, "BadRequest", $"unknown label selector operator {op}"),
                };
                selector._requirements.Add(req);
            }
        }

        return selector;
    }

    public static Selector Fields(string? text)
    {
        var selector = new Selector();
        foreach (var raw in SplitTopLevel(text))
        {
            var req = raw.Trim();
            if (req.Length == 0)
            {
                continue;
            }

            var (field, op, value) = SplitOperator(req)
                ?? throw new KubeApiException(400, "BadRequest", $"invalid field selector: '{req}'");
            var path = field.Split('.');
            selector._requirements.Add(op == "!="
                ? o => FieldValue(o, path) != value
                : o => FieldValue(o, path) == value);
        }

        return selector;
    }

    private static string? FieldValue(JsonObject o, string[] path) =>
        KubeJson.Walk(o, path) is JsonValue v ? v.ToString() : null;

    private static string? LabelOf(JsonObject o, string key) => o["metadata"]?["labels"]?[key]?.GetValue<string>();

    private static Func<JsonObject, bool> ParseLabelRequirement(string req)
    {
        if (req.StartsWith('!'))
        {
            var key = req[1..].Trim();
            return o => LabelOf(o, key) is null;
        }

        foreach (var setOp in new[] { " notin ", " in " })
        {
            var at = req.IndexOf(setOp, StringComparison.Ordinal);
            if (at > 0)
            {
                var key = req[..at].Trim();
                var list = req[(at + setOp.Length)..].Trim();
                if (!list.StartsWith('(') || !list.EndsWith(')'))
                {
                    throw new KubeApiException(400, "BadRequest", $"unable to parse requirement: '{req}'");
                }

                var values = list[1..^1].Split(',').Select(v => v.Trim()).ToHashSet();
                return setOp == " in "
                    ? o => LabelOf(o, key) is { } l && values.Contains(l)
                    : o => LabelOf(o, key) is not { } l || !values.Contains(l);
            }
        }

        if (SplitOperator(req) is var (k, op, value))
        {
            return op == "!="
                ? o => LabelOf(o, k) != value
                : o => LabelOf(o, k) == value;
        }

        var exists = req.Trim();
        return o => LabelOf(o, exists) is not null;
    }

    private static (string Key, string Op, string Value)? SplitOperator(string req)
    {
        foreach (var op in new[] { "!=", "==", "=" })
        {
            var at = req.IndexOf(op, StringComparison.Ordinal);
            if (at > 0)
            {
                return (req[..at].Trim(), op, req[(at + op.Length)..].Trim());
            }
        }

        return null;
    }

    private static IEnumerable<string> SplitTopLevel(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            yield break;
        }

        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(')
            {
                depth++;
            }
            else if (text[i] == ')')
            {
                depth--;
            }
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }
}
