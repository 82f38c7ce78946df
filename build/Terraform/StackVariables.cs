using System.Text.RegularExpressions;

namespace Tesslate.Build.Terraform;

/// <summary>The <c>variable "NAME" { … }</c> blocks of a stack folder's .tf files: each name with its body's text.</summary>
public static partial class StackVariables
{
    public static IReadOnlyDictionary<string, string> Read(string stackDirectory)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(stackDirectory))
            return variables;
        foreach (var file in Directory.EnumerateFiles(stackDirectory, "*.tf").Order(StringComparer.Ordinal))
        {
            var text = File.ReadAllText(file);
            foreach (Match m in VariableBlock().Matches(text))
                variables[m.Groups["name"].Value] = BlockBody(text, m.Index + m.Length);
        }
        return variables;
    }

    private static string BlockBody(string text, int openBrace)
    {
        var depth = 1;
        var i = openBrace;
        while (i < text.Length && depth > 0)
        {
            depth += text[i] switch { '{' => 1, '}' => -1, _ => 0 };
            i++;
        }
        return text[openBrace..i];
    }

    [GeneratedRegex("""^\s*variable\s+"(?<name>[^"]+)"\s*\{""", RegexOptions.Multiline)]
    private static partial Regex VariableBlock();
}
