using Tesslate.Build.Docker;
using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Platform;
using Tesslate.Build.Registry;

namespace Tesslate.Build;

internal sealed partial class Build
{
    private ImageCatalog Catalog => _run.Catalog.Get(() => ImageCatalog.Load(Path.Combine(RootDirectory, "images")));

    private string BuildReportPath => BuildReport is { } given ? Path.GetFullPath(given) : Path.Combine(TemporaryDirectory, "build-report.json");

    /// <summary>The --images selection; an unknown name is a usage error listing the valid ones (BuildImages requires it before anything runs).</summary>
    private IReadOnlyList<ImageDefinition> SelectedImages => _run.SelectedImages.Get(() => Catalog.Select(Images));

    /// <summary>
    /// BuildImages' requirement. --plan checks the --images names against the catalog's file names and leaves the
    /// catalog unparsed (a run parses it before any target); an unknown name, or a run, gets the full selection and
    /// its error listing the valid images. An empty selection, or --promote without an environment tag, is bad input.
    /// </summary>
    private object ImagesToBuild
    {
        get
        {
            if (Promote && Settings.ImageTag is null)
                throw new UsageException($"--promote needs an environment whose tag to move; {Settings.Id} has none.", "Pass --environment local|beta|production.");
            var requested = ImageCatalog.RequestedNames(Images);
            if (Plan && ImageCatalog.NamesIn(Path.Combine(RootDirectory, "images")) is { Count: > 0 } names && requested.All(names.Contains))
                return requested.Count > 0 ? requested : names;
            return SelectedImages is { Count: > 0 } selected
                ? selected
                : throw new UsageException("No images to build.", "Pass --images NAME[,NAME...] or mark images defaultSet in the catalog.");
        }
    }

    private IReadOnlyCollection<string> SelectedRepositories() => [.. SelectedImages.Select(i => i.Repository).Distinct()];

    /// <summary>The environment's registry, with ECR's Basic credentials (refreshed before they expire) or none for local.</summary>
    private RegistryClient RegistryClient => _run.Registry.Get(CreateRegistryClient);

    private RegistryClient CreateRegistryClient()
    {
        IRegistryCredentialProvider? credentials = Settings.UsesEcr ? new EcrRegistryCredentials(EcrCredentialsAsync) : null;
        var client = new RegistryClient(Settings.Registry!, credentials, Log, IsDryRun) { LoginSetting = $"{nameof(EcrLogin)} for ECR" };
        Cleanup.Register("close the registry client", () => { client.Dispose(); return Task.CompletedTask; });
        return client;
    }

    /// <summary>
    /// The docker CLI and engine of this run's environment (DOCKER_EXE, DOCKER_HOST): children inherit the process's
    /// environment and ToolLocator reads it too, which an in-process run with its own environment does not share.
    /// </summary>
    private DockerOptions DockerOptions => new()
    {
        Executable = Tools.Docker,
        Host = EnvironmentVariables.GetValueOrDefault("DOCKER_HOST") is { Length: > 0 } host ? host : null,
        Builder = Builder,
        BuilderSetting = "--builder",
    };

    /// <summary>
    /// Under dry-run, registry reads are probes: they run only when the registry answers and (for ECR) credentials
    /// exist. One quick check, instead of each lookup retrying against a registry that is not there.
    /// </summary>
    private Task<bool> RegistryReachableAsync(CancellationToken cancellationToken) => _run.RegistryReachable.GetAsync(async () =>
    {
        try
        {
            if (Settings.UsesEcr)
                await AwsAsync(cancellationToken);
            var scheme = RegistryClient.IsPlainHttp(Settings.Registry!) ? "http" : "https";
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
            using var response = await http.GetAsync($"{scheme}://{Settings.Registry}/v2/", cancellationToken);
            return true;
        }
        catch (Exception error) when (error is PrerequisiteMissingException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Log.Warning("Registry {Registry} not checked in dry-run: {Problem}", Settings.Registry, error is BuildFailure failure ? failure.Problem : error.Message);
            return false;
        }
    });

    /// <summary>
    /// Read-only: each selected image's fingerprint and whether BuildImages will build or reuse it. ReleasePlan asks
    /// first (to show it before the approval); BuildImages acts on the same answer instead of asking the registry again.
    /// </summary>
    private Task<ImageBuildPlan> PlanImagesAsync(CancellationToken cancellationToken) =>
        _run.ImagePlan.GetAsync(async () => await NewImageBuilder().PlanAsync(await ImageRequestAsync(cancellationToken), cancellationToken));

    private ImageBuilder NewImageBuilder() => new(new DockerCli(Runner, DockerOptions), RegistryClient, Log, git: Tools.Git);

    private async Task<ImageBuildRequest> ImageRequestAsync(CancellationToken cancellationToken)
    {
        // Under dry-run an unreachable registry (no local registry, no AWS credentials) still plans every image.
        var registryNotChecked = IsDryRun && !await RegistryReachableAsync(cancellationToken) ? $"the registry {Settings.Registry} cannot be asked" : null;
        return new ImageBuildRequest
        {
            Images = SelectedImages,
            CatalogDirectory = Path.Combine(RootDirectory, "images"),
            SourceRoot = IsDryRun && SourceRoot is null && Environment != DeployEnvironment.Local ? null : ResolveSourceRoot(),
            Registry = Settings.Registry!,
            LogDirectory = Path.Combine(TemporaryDirectory, "logs"),
            Environment = Settings.ImageTag,
            Promote = Promote,
            ForceBuild = ForceBuild,
            NoCache = NoCache,
            Parallelism = BuildParallelism,
            Timeout = BuildTimeout,
            TimeoutSetting = "--build-timeout",
            DryRun = IsDryRun,
            RegistryNotChecked = registryNotChecked,
        };
    }

    private async Task BuildImagesAsync(CancellationToken cancellationToken)
    {
        var plan = await PlanImagesAsync(cancellationToken);
        var live = LiveBuildView.IsWanted(IsInteractive, Verbosity, EnvironmentVariables) ? new LiveBuildView(ConsoleWriters.CreateConsole()) : null;
        using var quietConsole = live is null ? null : HoldConsole();
        var report = await NewImageBuilder().BuildAsync(await ImageRequestAsync(cancellationToken) with { Progress = live }, plan, cancellationToken);

        quietConsole?.Dispose();
        _run.BuiltImages.Set(report);
        if (!IsDryRun)
            report.Write(BuildReportPath);
        Report.SetSection("images", report);
        foreach (var image in report.Images)
            Note($"{image.Name}: {image.Outcome.ToString().ToLowerInvariant()} {image.PinnedReference ?? string.Join(", ", image.Tags)}");
        report.EnsureSuccess();
    }

    /// <summary>This run's build report, or the one a CI build job handed over with --build-report.</summary>
    private BuildReport? CurrentBuildReport() => _run.BuiltImages.ValueOrDefault ?? _run.GivenBuildReport.Get(() =>
    {
        if (BuildReport is null)
            return null;
        if (!File.Exists(BuildReportPath))
            throw new UsageException($"--build-report {BuildReport} does not exist.", "Point it at the build-report.json a BuildImages run wrote (the CI build job uploads it as an artifact).");
        try
        {
            return global::Tesslate.Build.Images.BuildReport.Read(BuildReportPath);
        }
        catch (UsageException unreadable)
        {
            throw new UsageException($"--build-report {BuildReport}: {unreadable.Problem}", "Point it at the build-report.json a BuildImages run wrote (the CI build job uploads it as an artifact).");
        }
    });

    /// <summary>ECR's Basic credentials for the registry client, from the same token EcrLogin used.</summary>
    private sealed class EcrRegistryCredentials(Func<CancellationToken, Task<global::Tesslate.Build.Aws.EcrCredentials>> credentials) : IRegistryCredentialProvider
    {
        public async Task<RegistryCredentials?> GetAsync(string registry, CancellationToken cancellationToken)
        {
            var authorization = await (await credentials(cancellationToken)).GetAsync(cancellationToken);
            return new RegistryCredentials(authorization.Username, authorization.Password);
        }
    }
}
