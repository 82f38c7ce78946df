using System.Text.Json;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>
/// Every argument passed to a community module is an input of the pinned version (module-inputs.json, read from
/// the module's variables.tf at that tag): a renamed input fails here, not at the first real plan.
/// </summary>
public sealed class ModuleInputTests
{
    private static readonly string[] MetaArguments = ["source", "version", "count", "for_each", "depends_on", "providers"];

    [Theory]
    [MemberData(nameof(TerraformTests.Stacks), MemberType = typeof(TerraformTests))]
    public async Task Every_module_argument_is_an_input_of_the_pinned_module_version(string stack)
    {
        var known = LoadKnownInputs();
        var parsed = await Hcl2Json.StackAsync(stack);

        var problems = new List<string>();
        foreach (var (file, name, body) in parsed.Blocks("module"))
        {
            var key = $"{body.GetProperty("source").GetString()}@{body.GetProperty("version").GetString()}";
            if (!known.TryGetValue(key, out var inputs))
            {
                problems.Add($"{Path.GetFileName(file)}: module {name} uses {key}, whose inputs are not recorded in module-inputs.json");
                continue;
            }

            problems.AddRange(body.EnumerateObject()
                .Select(argument => argument.Name)
                .Where(argument => !MetaArguments.Contains(argument) && !inputs.Contains(argument))
                .Select(argument => $"{Path.GetFileName(file)}: module {name} ({key}) has no input '{argument}'"));
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    private static Dictionary<string, HashSet<string>> LoadKnownInputs()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(InfrastructureLayout.Full("tests/Tesslate.Build.Tests/Infrastructure/module-inputs.json")));
        return document.RootElement.GetProperty("modules").EnumerateObject().ToDictionary(
            module => module.Name,
            module => module.Value.EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal),
            StringComparer.Ordinal);
    }
}
