using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Serilog;
using Tesslate.Build.Engine.Processes;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>A Terraform stack's files parsed to JSON by @cdktf/hcl2json (HashiCorp's HCL parser, offline).</summary>
internal sealed record TerraformStack(string Directory, IReadOnlyDictionary<string, JsonElement> Files, JsonElement? TfvarsExample)
{
    /// <summary>Blocks of one type (variable, resource, module, …) across all files: (file, label path, body).</summary>
    public IEnumerable<(string File, string Name, JsonElement Body)> Blocks(string blockType)
    {
        foreach (var (file, json) in Files)
        {
            if (!json.TryGetProperty(blockType, out var blocks))
                continue;
            foreach (var labelled in blocks.EnumerateObject())
            {
                foreach (var body in labelled.Value.EnumerateArray())
                    yield return (file, labelled.Name, body);
            }
        }
    }

    /// <summary>Resources of a type: (name, body).</summary>
    public IEnumerable<(string Name, JsonElement Body)> Resources(string resourceType)
    {
        foreach (var (_, json) in Files)
        {
            if (!json.TryGetProperty("resource", out var resources) || !resources.TryGetProperty(resourceType, out var ofType))
                continue;
            foreach (var resource in ofType.EnumerateObject())
            {
                foreach (var body in resource.Value.EnumerateArray())
                    yield return (resource.Name, body);
            }
        }
    }

    public IReadOnlyDictionary<string, JsonElement> Variables =>
        Blocks("variable").ToDictionary(block => block.Name, block => block.Body, StringComparer.Ordinal);

    /// <summary>Every <c>var.NAME</c> used in an expression of any file (hcl2json keeps expressions as text).</summary>
    public IReadOnlySet<string> VariablesUsed =>
        Files.Values.SelectMany(json => VariableReference.Matches(json.GetRawText()).Select(match => match.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);

    /// <summary>Values of metadata.name of the resources of a type (a literal or a simple expression left as text).</summary>
    public IEnumerable<string> MetadataNames(string resourceType) =>
        Resources(resourceType)
            .Select(resource => resource.Body.TryGetProperty("metadata", out var metadata) ? metadata[0].GetProperty("name").GetString() : null)
            .OfType<string>();

    private static readonly Regex VariableReference = new(@"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)", RegexOptions.Compiled);
}

/// <summary>Runs tests/tools/hcl2json/parse.js (node + @cdktf/hcl2json from its package-lock.json).</summary>
internal static class Hcl2Json
{
    public const string InstallHint = "npm ci --prefix tests/tools/hcl2json";

    private static readonly ConcurrentDictionary<string, Lazy<Task<TerraformStack>>> Cache = new(StringComparer.Ordinal);

    private static readonly ProcessRunner Runner = new(new LoggerConfiguration().CreateLogger());

    public static string ToolDirectory => InfrastructureLayout.Full("tests/tools/hcl2json");

    public static Task<TerraformStack> StackAsync(string relativeDirectory) =>
        Cache.GetOrAdd(relativeDirectory, directory => new Lazy<Task<TerraformStack>>(() => LoadStackAsync(directory))).Value;

    /// <summary>Parses files; a parse error fails with every file's message.</summary>
    public static async Task<IReadOnlyDictionary<string, JsonElement>> ParseAsync(IReadOnlyList<string> files, CancellationToken cancellationToken)
    {
        var output = await RunAsync("parse.js", files, cancellationToken);
        return output.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
    }

    /// <summary>Runs one of the tool folder's node scripts and reads its JSON output; exit 1 fails with its stderr.</summary>
    public static async Task<JsonElement> RunAsync(string script, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        RequireInstalled();
        var command = new ToolCommand("node", [Path.Combine(ToolDirectory, script), .. arguments])
        {
            CaptureOutput = true,
            Quiet = true,
            IsReadOnly = true,
            Timeout = TimeSpan.FromMinutes(2),
            WorkingDirectory = ToolDirectory,
            AllowedExitCodes = [0, 1],
        };
        var result = await Runner.RunAsync(command, cancellationToken);
        if (result.ExitCode != 0)
            throw new HclParseException(result.StandardError);

        using var document = JsonDocument.Parse(result.StandardOutput);
        return document.RootElement.Clone();
    }

    private static async Task<TerraformStack> LoadStackAsync(string relativeDirectory)
    {
        var directory = InfrastructureLayout.Full(relativeDirectory);
        var files = Directory.GetFiles(directory, "*.tf").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        var parsed = await ParseAsync(files, CancellationToken.None);
        var example = Path.Combine(directory, "terraform.tfvars.example");
        JsonElement? tfvars = File.Exists(example) ? (await ParseAsync([example], CancellationToken.None))[example] : null;
        return new TerraformStack(directory, parsed, tfvars);
    }

    private static void RequireInstalled()
    {
        var package = Path.Combine(ToolDirectory, "node_modules", "@cdktf", "hcl2json", "package.json");
        Assert.True(File.Exists(package),
            $"@cdktf/hcl2json is not installed in {ToolDirectory}. Run `{InstallHint}` (from the repository root) once; CI does it in .ci/run.");
    }
}

internal sealed class HclParseException(string message) : Exception(message);
