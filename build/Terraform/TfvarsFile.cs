using System.Text;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Terraform;

/// <summary>
/// A <c>.tfvars</c> file read just enough to check it and to keep its values out of every output: top-level
/// <c>name = value</c> assignments, with strings, heredocs, lists and objects spanning lines. Values are never part of
/// <see cref="ToString"/> or any message; the file itself is only read, never moved or deleted.
/// </summary>
public sealed class TfvarsFile
{
    private const string EnvironmentVariable = "environment";

    private readonly Dictionary<string, Assignment> _assignments;

    private TfvarsFile(string source, Dictionary<string, Assignment> assignments)
    {
        Source = source;
        _assignments = assignments;
    }

    /// <summary>Where the values came from (a path, or a description such as a secret id); used in messages.</summary>
    public string Source { get; }

    public IReadOnlyCollection<string> VariableNames => _assignments.Keys;

    /// <summary>The <c>environment</c> variable when it is a plain string.</summary>
    public string? Environment => TryGetString(EnvironmentVariable);

    /// <summary>Reads and parses a file, then registers its values as secrets (see <see cref="RegisterSecrets"/>).</summary>
    public static TfvarsFile Read(string path, IEnumerable<string>? publicVariables = null)
    {
        if (!File.Exists(path))
        {
            throw new BuildFailure($"The tfvars file '{path}' does not exist.",
                "Point to an existing .tfvars file (an absolute path, or relative to the current folder).");
        }
        var file = Parse(File.ReadAllText(path), path);
        file.RegisterSecrets(publicVariables);
        return file;
    }

    /// <summary>Parses tfvars text. Syntax errors name the line, never the value.</summary>
    public static TfvarsFile Parse(string text, string source)
    {
        try
        {
            return new TfvarsFile(source, new Scanner(text).ReadAssignments());
        }
        catch (FormatException error)
        {
            throw new BuildFailure($"Could not read the tfvars file '{source}': {error.Message}",
                "Check the file with 'terraform fmt -check' or fix the line named above.");
        }
    }

    public string? TryGetString(string name) => _assignments.TryGetValue(name, out var assignment) ? assignment.StringValue : null;

    /// <summary>A value's source text (trimmed), for diffs and masked views; internal so it never reaches a message by accident.</summary>
    internal string? RawValue(string name) => _assignments.TryGetValue(name, out var assignment) ? assignment.Raw : null;

    /// <summary>Stops before any plan when the file is for another environment or does not say which one it is for.</summary>
    /// <param name="chooseEnvironment">How the caller's user chooses an environment (the pipeline: <c>--environment</c>), for the fix.</param>
    public void RequireEnvironment(string expected, string chooseEnvironment)
    {
        if (!_assignments.TryGetValue(EnvironmentVariable, out var assignment))
        {
            throw new BuildFailure(
                $"The tfvars file '{Source}' does not set 'environment'. Without it Terraform uses the stack's default " +
                $"(production in these stacks), so a run for '{expected}' could plan another environment's resources.",
                $"Add environment = \"{expected}\" to the tfvars file, or use the tfvars made for '{expected}'.");
        }
        if (assignment.StringValue is not { } actual)
        {
            throw new BuildFailure($"The tfvars file '{Source}' sets 'environment' to something that is not a plain string.",
                $"Write it as environment = \"{expected}\".");
        }
        if (!string.Equals(actual, expected, StringComparison.Ordinal))
        {
            throw new BuildFailure(
                $"The tfvars file '{Source}' is for environment '{actual}', but this run is for '{expected}'. Nothing was planned.",
                $"Use the tfvars made for '{expected}', or choose {chooseEnvironment} {actual} if that is what you meant.");
        }
    }

    /// <summary>
    /// Registers every string value (and each line of a multi-line one) with <see cref="Secrets"/>, except the
    /// environment name and the variables the caller declares public (a region or project name would otherwise mask
    /// every log line that mentions it). Returns how many variables contributed values.
    /// </summary>
    public int RegisterSecrets(IEnumerable<string>? publicVariables = null)
    {
        var exempt = new HashSet<string>(publicVariables ?? [], StringComparer.Ordinal) { EnvironmentVariable };
        var count = 0;
        foreach (var (name, assignment) in _assignments)
        {
            if (exempt.Contains(name) || assignment.Strings.Count == 0)
                continue;
            count++;
            foreach (var value in assignment.Strings)
            {
                Secrets.Register(value);
                foreach (var line in value.Split('\n'))
                    Secrets.Register(line.Trim());
            }
        }
        return count;
    }

    public override string ToString() => $"tfvars {Source} ({_assignments.Count} variables)";

    private sealed record Assignment(string? StringValue, IReadOnlyList<string> Strings, string Raw)
    {
        // Records print their members; these hold secrets.
        public override string ToString() => "(value hidden)";
    }

    private sealed class Scanner(string text)
    {
        private int _position;
        private int _line = 1;

        public Dictionary<string, Assignment> ReadAssignments()
        {
            var result = new Dictionary<string, Assignment>(StringComparer.Ordinal);
            while (true)
            {
                SkipBlanksAndComments(acrossLines: true);
                if (AtEnd)
                    return result;
                var line = _line;
                var name = ReadIdentifier() ?? throw new FormatException($"line {line}: expected a variable name.");
                SkipBlanksAndComments(acrossLines: false);
                if (AtEnd || Current != '=')
                    throw new FormatException($"line {line}: expected '=' after '{name}'.");
                _position++;
                result[name] = ReadValue(line);
            }
        }

        private bool AtEnd => _position >= text.Length;

        private char Current => text[_position];

        private bool LooksAt(string token) => string.CompareOrdinal(text, _position, token, 0, token.Length) == 0;

        private string? ReadIdentifier()
        {
            var start = _position;
            if (AtEnd || !(char.IsLetter(Current) || Current == '_'))
                return null;
            while (!AtEnd && (char.IsLetterOrDigit(Current) || Current is '_' or '-'))
                _position++;
            return text[start.._position];
        }

        private void SkipBlanksAndComments(bool acrossLines)
        {
            while (!AtEnd)
            {
                if (Current == '\n')
                {
                    if (!acrossLines)
                        return;
                    _line++;
                    _position++;
                }
                else if (char.IsWhiteSpace(Current))
                    _position++;
                else if (Current == '#' || LooksAt("//"))
                    SkipToLineEnd();
                else if (LooksAt("/*"))
                    SkipBlockComment();
                else
                    return;
            }
        }

        private void SkipToLineEnd()
        {
            while (!AtEnd && Current != '\n')
                _position++;
        }

        private void SkipBlockComment()
        {
            var end = text.IndexOf("*/", _position + 2, StringComparison.Ordinal);
            var stop = end < 0 ? text.Length : end + 2;
            _line += text.AsSpan(_position, stop - _position).Count('\n');
            _position = stop;
        }

        private Assignment ReadValue(int line)
        {
            var strings = new List<string>();
            var depth = 0;
            var tokens = 0;
            string? single = null;
            SkipBlanksAndComments(acrossLines: false);
            var start = _position;
            while (!AtEnd)
            {
                var c = Current;
                if (c == '\n' && depth == 0)
                    break;
                if (c == '"')
                {
                    var value = ReadString(line);
                    strings.Add(value);
                    tokens++;
                    single = tokens == 1 && depth == 0 ? value : null;
                    continue;
                }
                if (LooksAt("<<"))
                {
                    var value = ReadHeredoc(line);
                    strings.Add(value);
                    tokens++;
                    single = tokens == 1 && depth == 0 ? value : null;
                    continue;
                }
                if (c == '#' || LooksAt("//"))
                {
                    SkipToLineEnd();
                    continue;
                }
                if (LooksAt("/*"))
                {
                    SkipBlockComment();
                    continue;
                }
                if (c == '\n')
                    _line++;
                else if (c is '[' or '{' or '(')
                    depth++;
                else if (c is ']' or '}' or ')')
                    depth--;
                if (!char.IsWhiteSpace(c))
                {
                    tokens++;
                    single = null;
                }
                _position++;
            }
            if (depth != 0)
                throw new FormatException($"line {line}: unbalanced brackets in the value.");
            if (tokens == 0)
                throw new FormatException($"line {line}: missing value.");
            return new Assignment(single, strings, text[start.._position].Trim());
        }

        private string ReadString(int line)
        {
            _position++; // opening quote
            var value = new StringBuilder();
            while (true)
            {
                if (AtEnd || Current == '\n')
                    throw new FormatException($"line {line}: unterminated string.");
                var c = Current;
                _position++;
                if (c == '"')
                    return value.ToString();
                if (c != '\\')
                {
                    value.Append(c);
                    continue;
                }
                if (AtEnd)
                    throw new FormatException($"line {line}: unterminated string.");
                var escaped = Current;
                _position++;
                switch (escaped)
                {
                    case 'n': value.Append('\n'); break;
                    case 't': value.Append('\t'); break;
                    case 'r': value.Append('\r'); break;
                    case 'u' when _position + 4 <= text.Length:
                        value.Append((char)Convert.ToInt32(text.Substring(_position, 4), 16));
                        _position += 4;
                        break;
                    default: value.Append(escaped); break;
                }
            }
        }

        private string ReadHeredoc(int line)
        {
            _position += 2;
            var indented = !AtEnd && Current == '-';
            if (indented)
                _position++;
            var marker = ReadIdentifier() ?? throw new FormatException($"line {line}: heredoc without a marker.");
            SkipToLineEnd();
            var lines = new List<string>();
            while (true)
            {
                if (AtEnd)
                    throw new FormatException($"line {line}: heredoc '{marker}' is never closed.");
                _position++; // newline
                _line++;
                var start = _position;
                SkipToLineEnd();
                var content = text[start.._position];
                if (content.Trim() == marker)
                    break;
                lines.Add(content);
            }
            if (indented && lines.Count > 0)
            {
                var indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
                lines = [.. lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart())];
            }
            return string.Join('\n', lines);
        }
    }
}
