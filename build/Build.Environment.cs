using Tesslate.Build.Aws;
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
        _ = Allowances;
        if (ComputeOverlay is not null && !Directory.Exists(Path.Combine(RootDirectory, ComputeOverlay)))
            throw new UsageException($"--compute-overlay '{ComputeOverlay}' does not exist.", "Name a kustomize overlay directory, relative to the repository root (e.g. k8s/overlays/aws-beta/compute).");
        if (Cached)
            Log.Information("--cached changes nothing: the layer cache is on by default (--no-cache turns it off).");
    }

    private AwsEnvironment AwsVariables => AwsEnvironment.From(EnvironmentVariables.ToDictionary(p => p.Key, p => (string?)p.Value));

    /// <summary>Where Settings.Region came from (Whoami shows it).</summary>
    private string RegionSource
    {
        get
        {
            _ = Settings;
            return _regionSource!;
        }
    }

    private string? _regionSource;

    private EnvironmentSettings ResolveSettings()
    {
        var defaults = EnvironmentTable.Defaults(Environment);
        var account = AwsAccountId ?? defaults.AccountId;
        // Explicit choices win (flag, AWS_REGION, AWS_DEFAULT_REGION, the profile's region); the table's region, where the
        // environment's cluster and registry really are, only replaces the SDK's us-east-1 as the last resort.
        (var region, _regionSource) = global::Tesslate.Build.Aws.AwsRegion.Resolve(AwsRegion, AwsVariables, AwsCredentialChain.ProfileRegion(AwsProfile, AwsVariables),
            (defaults.Region, $"the environment table's region for {defaults.Id}"));
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
