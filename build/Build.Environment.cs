using Tesslate.Build.Engine;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

internal sealed partial class Build
{
    protected override void OnParametersBound()
    {
        if (Environment == DeployEnvironment.Shared && ParameterSources.ContainsKey(nameof(Role)))
            throw new UsageException("--role does not apply to the shared environment: it has no team roles and no cluster workloads.", "Drop --role; Terraform for shared runs with your own AWS identity.");
        if (SourceRoot is not null && !Directory.Exists(SourceRoot))
            throw new UsageException($"--source-root '{SourceRoot}' does not exist.", "Point it at a checkout of the application repository (TesslateAI/Studio layout).");
        OperationRules.ParseStateArgs(StateArgs);
        if (Cached)
            Log.Information("--cached changes nothing: the layer cache is on by default (--no-cache turns it off).");
    }

    private EnvironmentSettings ResolveSettings()
    {
        var defaults = EnvironmentTable.Defaults(Environment);
        var account = AwsAccountId ?? defaults.AccountId;
        var region = AwsRegion ?? System.Environment.GetEnvironmentVariable("AWS_REGION") ?? System.Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") ?? defaults.Region;
        return defaults with
        {
            AccountId = account,
            Region = region,
            ClusterName = ClusterName ?? defaults.ClusterName,
            Domain = Domain ?? defaults.Domain,
            StateBucket = StateBucket ?? defaults.StateBucket,
            Registry = Registry ?? (defaults.UsesEcr && account is not null ? EnvironmentTable.EcrRegistry(account, region) : defaults.Registry),
        };
    }

    /// <summary>The application tree images build from: --source-root, else (local only) the fixture app.</summary>
    private string ResolveSourceRoot()
    {
        if (SourceRoot is not null)
            return Path.GetFullPath(SourceRoot);
        if (Environment == DeployEnvironment.Local)
            return Path.Combine(RootDirectory, "tests", "fixtures", "app");
        var problem = $"{Settings.Id} builds from a checkout of the application repository, and --source-root was not given.";
        const string fix = "Pass --source-root <path to a TesslateAI/Studio checkout> (or set TESSLATE_SOURCE_ROOT, or \"SourceRoot\" in .nuke/parameters.json).";
        throw IsDryRun ? new PrerequisiteMissingException(problem + " Tags are computed at run time.", fix) : new UsageException(problem, fix);
    }
}
