namespace Tesslate.Build.Engine;

/// <summary>
/// The raw command line: target names are the words before the first flag; each <c>--flag</c> takes the words after
/// it up to the next flag (<c>--images backend ast</c>), or <c>--flag=value</c>.
/// </summary>
public sealed class CommandLine
{
    private CommandLine(IReadOnlyList<string> targets, IReadOnlyList<(string Name, List<string> Values)> options)
    {
        Targets = targets;
        Options = options;
    }

    public IReadOnlyList<string> Targets { get; }

    /// <summary>Flags as given (name without dashes, lowercased), in order; a repeated flag appears twice.</summary>
    public IReadOnlyList<(string Name, List<string> Values)> Options { get; }

    /// <summary>The last flag whose name matches (a later flag wins), or null. A loop: LINQ over these tuples is generic code compiled at start.</summary>
    public List<string>? LastValues(Func<string, bool> matches)
    {
        for (var i = Options.Count - 1; i >= 0; i--)
        {
            if (matches(Options[i].Name))
                return Options[i].Values;
        }
        return null;
    }

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var targets = new List<string>();
        var options = new List<(string, List<string>)>();
        foreach (var arg in args)
        {
            if (IsFlag(arg))
            {
                var body = arg.TrimStart('-');
                if (arg is "-h" or "-?")
                    body = "help";
                var equals = body.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0)
                    options.Add((body[..equals].ToLowerInvariant(), [body[(equals + 1)..]]));
                else
                    options.Add((body.ToLowerInvariant(), []));
            }
            else if (options.Count == 0)
            {
                targets.AddRange(arg.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
            else
            {
                options[^1].Item2.Add(arg);
            }
        }
        return new CommandLine(targets, options);
    }

    // "--replicas -1" keeps "-1" as a value: only double-dash words (and -h/-?) are flags.
    private static bool IsFlag(string arg) => (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2) || arg is "-h" or "-?";
}
