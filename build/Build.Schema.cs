using Tesslate.Build.Engine;

namespace Tesslate.Build;

internal sealed partial class Build
{
    private string SchemaPath => Path.Combine(NukeDirectory, "build.schema.json");

    private async Task GenerateSchemaAsync(CancellationToken cancellationToken)
    {
        var expected = ParameterSchema.Generate(Graph, Parameters);
        var current = File.Exists(SchemaPath) ? await File.ReadAllTextAsync(SchemaPath, cancellationToken) : null;
        if (current == expected)
        {
            Note("build.schema.json is up to date");
            return;
        }
        if (Check)
            throw new BuildFailure(current is null ? $"{SchemaPath} is missing." : $"{SchemaPath} is stale: it differs from what the targets and parameters generate.",
                "Run ./build.sh GenerateSchema and commit .nuke/build.schema.json.");
        if (IsDryRun)
        {
            Log.Information("[dry-run] would write {Path}", SchemaPath);
            return;
        }
        await File.WriteAllTextAsync(SchemaPath, expected, cancellationToken);
        Note("wrote .nuke/build.schema.json");
    }
}
