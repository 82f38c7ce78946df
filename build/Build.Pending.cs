using Tesslate.Build.Engine;

namespace Tesslate.Build;

// Targets whose adapters are still being wired. Each says what it will do; under --dry-run that is the answer.
internal sealed partial class Build
{
    private Task Pending(string whatItWillDo)
    {
        if (IsDryRun)
        {
            Log.Information("[dry-run] {What}", whatItWillDo);
            Note(whatItWillDo);
            return Task.CompletedTask;
        }
        throw new BuildFailure($"This target is not built yet. Once it is, it will: {whatItWillDo}", "Run it with --dry-run to see the plan, or use the legacy script for this step meanwhile.");
    }

    private Task SeedAppsAsync(CancellationToken ct) => Pending("run python -m scripts.seed_apps in a Ready backend pod");

}
