using Tesslate.Build.Aws;
using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Platform;
using Tesslate.Build.Registry;

using Tesslate.Build.Tools;

namespace Tesslate.Build;

internal sealed partial class Build
{
    protected override void OnParametersBound()
    {
        if (Environment == DeployEnvironment.Shared && ParameterSources.ContainsKey(nameof(Role)))
            throw new UsageException("--role does not apply to the shared environment: it has no team roles and no cluster workloads.", "Drop --role; Terraform for shared runs with your own AWS identity.");
        if (SourceRoot is not null && !Directory.Exists(SourceRoot))
            throw new UsageException($"--source-root '{SourceRoot}' does not exist.", "Point it at a checkout of the application repository (TesslateAI/Studio layout).");
        ValidateApplicationRef();
        OperationRules.ParseStateArgs(StateArgs);
        _ = Allowances;
        if (ComputeOverlay is not null && !Directory.Exists(Path.Combine(RootDirectory, ComputeOverlay)))
            throw new UsageException($"--compute-overlay '{ComputeOverlay}' does not exist.", "Name a kustomize overlay directory, relative to the repository root (e.g. k8s/overlays/aws-beta/compute).");
        if (Cached)
            Log.Information("--cached changes nothing: the layer cache is on by default (--no-cache turns it off).");
    }

    /// <summary>
    /// Every value's form, before any target runs (exit 2, nothing written): the registry always; the source root and the
    /// build report only when a scheduled target reads them (a Terraform-only run needs no source tree).
    /// </summary>
    protected override void OnPlanned()
    {
        if (Registry is not null && RegistryAddress.Problem(Registry) is { } registryProblem)
            throw new UsageException($"--registry '{Registry}' is not a registry address: {registryProblem}.",
                "Pass host[:port] as in image names, e.g. --registry localhost:5000 or --registry 123456789012.dkr.ecr.us-east-1.amazonaws.com.");
        if (SourceRoot is not null && (IsPlanned(nameof(BuildImages)) || IsPlanned(nameof(SubmodulesInit))) && !IsInsideGitCheckout(Path.GetFullPath(SourceRoot)))
            throw new UsageException($"--source-root '{SourceRoot}' is not a git checkout: image tags and fingerprints come from its commit.",
                "Point it at a clone of the application repository (git clone https://github.com/TesslateAI/Studio), not an export or a copy without .git.");
        if (BuildReport is not null && !IsPlanned(nameof(BuildImages))
            && new[] { nameof(ReleasePlan), nameof(KustomizeApply), nameof(SeedApps), nameof(Deploy) }.Any(IsPlanned))
        {
            if (!File.Exists(BuildReportPath))
                throw new UsageException($"--build-report {BuildReport} does not exist.",
                    "Point it at the build-report.json a BuildImages run wrote (the CI build job uploads it as an artifact), or drop --build-report to build in this run.");
            _ = CurrentBuildReport(); // a file that is not a build report stops the run here too
        }
    }

    // .git is a folder in a clone and a file in a worktree or submodule; a subfolder of a checkout is inside it too.
    private static bool IsInsideGitCheckout(string path)
    {
        for (var directory = new DirectoryInfo(path); directory is not null; directory = directory.Parent)
        {
            var git = Path.Combine(directory.FullName, ".git");
            if (Directory.Exists(git) || File.Exists(git))
                return true;
        }
        return false;
    }

    private AwsEnvironment AwsVariables
    {
        get
        {
            // A loop, not ToDictionary over key-value pairs: generic code the JIT compiles on every --plan (docs/bootstrap.md, "Start").
            var variables = new Dictionary<string, string?>(EnvironmentVariables.Count);
            foreach (var variable in EnvironmentVariables)
                variables[variable.Key] = variable.Value;
            return AwsEnvironment.From(variables);
        }
    }

    /// <summary>Where Settings.Region came from (Whoami shows it).</summary>
    private string RegionSource => _run.Environment.Get(BindEnvironment).RegionSource;

    private BoundEnvironment BindEnvironment()
    {
        var defaults = EnvironmentTable.Defaults(Environment);
        var account = AwsAccountId ?? defaults.AccountId;
        // Explicit choices win (flag, AWS_REGION, AWS_DEFAULT_REGION, the profile's region); the table's region, where the
        // environment's cluster and registry really are, only replaces the SDK's us-east-1 as the last resort.
        var (region, regionSource) = global::Tesslate.Build.Aws.AwsRegion.Resolve(AwsRegion, AwsVariables, AwsCredentialChain.ProfileRegion(AwsProfile, AwsVariables),
            (defaults.Region, $"the environment table's region for {defaults.Id}"), AwsFlags.Region);
        return new(defaults with
        {
            AccountId = account,
            Region = region,
            ClusterName = ClusterName ?? defaults.ClusterName,
            Domain = Domain ?? defaults.Domain,
            StateBucket = StateBucket ?? defaults.StateBucket,
            Registry = Registry ?? (defaults.UsesEcr && account is not null ? EnvironmentTable.EcrRegistry(account, region) : defaults.Registry),
        }, regionSource);
    }

    /// <summary>The tools this run starts (GIT_EXE, DOCKER_EXE, TERRAFORM_EXE, KUBECTL_EXE from the run's environment).</summary>
    private ToolExecutables Tools => ToolExecutables.From(EnvironmentVariables);

    /// <summary>The application tree images build from: the source root (three ways to set it), else (local only) the fixture app.</summary>
    private string ResolveSourceRoot()
    {
        if (SourceRootInEffect() is { } root)
            return root.Path;
        var problem = $"{Settings.Id} builds its images from a checkout of the application repository, and no source root is set.";
        throw IsDryRun ? new PrerequisiteMissingException(problem + " Tags are computed at run time.", SourceRoots.Fix) : new UsageException(problem, SourceRoots.Fix);
    }

    /// <summary>--application-ref must name something: the CI deploy job passes the build job's output, which is empty when that job resolved nothing.</summary>
    private void ValidateApplicationRef()
    {
        if (ApplicationRef is { } requested && (string.IsNullOrWhiteSpace(requested) || requested.StartsWith('-')))
            throw new UsageException($"--application-ref '{requested}' is not a branch, tag or commit SHA.", "Pass a branch, tag or full commit SHA of the application repository, or leave it out to use what the source root has checked out.");
    }
}
