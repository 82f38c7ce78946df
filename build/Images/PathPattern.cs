using System.Text;
using System.Text.RegularExpressions;

namespace Tesslate.Build.Images;

/// <summary>Docker's path patterns (Go's filepath.Match: <c>*</c>, <c>?</c>, <c>[set]</c>, <c>\</c> escapes) as anchored regexes.</summary>
public static class PathPattern
{
    /// <param name="pattern">A slash-separated pattern.</param>
    /// <param name="anyDirectories">.dockerignore's extension: <c>**</c> matches any number of directories; without it <c>**</c> is two <c>*</c>.</param>
    public static Regex Compile(string pattern, bool anyDirectories)
    {
        var builder = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*' when anyDirectories && i + 1 < pattern.Length && pattern[i + 1] == '*':
                    i++;
                    if (i + 1 >= pattern.Length)
                        builder.Append(".*");
                    else if (pattern[i + 1] == '/')
                    {
                        // "**/" matches zero or more whole directories.
                        builder.Append("(.*/)?");
                        i++;
                    }
                    else
                        builder.Append(".*");
                    break;
                case '*':
                    builder.Append("[^/]*");
                    break;
                case '?':
                    builder.Append("[^/]");
                    break;
                case '[':
                    var end = pattern.IndexOf(']', i + 1);
                    if (end < 0)
                    {
                        builder.Append(@"\[");
                        break;
                    }
                    // A leading ^ negates the set, as in the regex; backslashes stay literal.
                    builder.Append('[').Append(pattern[(i + 1)..end].Replace(@"\", @"\\", StringComparison.Ordinal)).Append(']');
                    i = end;
                    break;
                case '\\' when i + 1 < pattern.Length:
                    i++;
                    builder.Append(Regex.Escape(pattern[i].ToString()));
                    break;
                default:
                    builder.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        builder.Append('$');
        return new Regex(builder.ToString(), RegexOptions.CultureInvariant);
    }
}
