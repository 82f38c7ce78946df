using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using Polly.Retry;
using Serilog;
using Tesslate.Build.Docker;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Git;
using Tesslate.Build.Registry;

namespace Tesslate.Build.Images;

/// <summary>What to build and how. Paths are absolute or relative to the current directory.</summary>
public sealed record ImageBuildRequest
{
    public required IReadOnlyList<ImageDefinition> Images { get; init; }

    /// <summary>Directory of the catalog files (ignore files resolve against it).</summary>
    public string? CatalogDirectory { get; init; }

    /// <summary>The application checkout. Null only under dry-run (tags then print as "computed at run time").</summary>
    public required string? SourceRoot { get; init; }

    /// <summary><c>host[:port]</c>; images are <c>&lt;registry&gt;/&lt;repository&gt;</c>.</summary>
    public required string Registry { get; init; }

    /// <summary>Where <c>&lt;image&gt;.log</c> files go (<c>.nuke/temp/logs</c>).</summary>
    public required string LogDirectory { get; init; }

    /// <summary>The environment whose tags <see cref="Promote"/> moves (local, beta, production).</summary>
    public string? Environment { get; init; }

    /// <summary>Move the environment tag (and <c>latest</c> where the catalog says) now; normally Deploy does it after the rollouts.</summary>
    public bool Promote { get; init; }

    public bool ForceBuild { get; init; }

    public bool NoCache { get; init; }

    public int Parallelism { get; init; } = 4;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How the caller's user sets <see cref="Timeout"/> (the pipeline: <c>--build-timeout</c>), for the failure; null: not offered.</summary>
    public string? TimeoutSetting { get; init; }

    /// <summary>Attempts after a transient registry error (push, manifest calls).</summary>
    public int TransientRetries { get; init; } = 2;

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Value of the <c>org.opencontainers.image.source</c> label (the application repository's URL).</summary>
    public string? SourceUrl { get; init; }

    public bool DryRun { get; init; }

    /// <summary>
    /// Dry-run only: why the registry cannot be asked (not reachable, no credentials). Every image is then planned
    /// without the reuse lookup, as "reused? unknown".
    /// </summary>
    public string? RegistryNotChecked { get; init; }

    /// <summary>Progress events (the live view); one that owns the console keeps image lines out of it while images build.</summary>
    public IImageBuildProgress? Progress { get; init; }
}

/// <summary>
/// Builds a set of images in parallel: fingerprints each one, reuses what the registry already has (re-tagging its
/// manifest), builds and pushes the rest with buildx or the classic builder, and reports every image even when some fail.
/// </summary>
public sealed partial class ImageBuilder
{
    private const string LabelPrefix = "org.opencontainers.image.";
    private readonly DockerCli _docker;
    private readonly RegistryClient _registry;
    private readonly ILogger _console;
    private readonly string _git;
    private readonly Func<ILogger, IProcessRunner> _runnerFactory;
    private readonly IRegistryCredentialProvider? _baseCredentials;
    private readonly ConcurrentDictionary<string, Task<string?>> _baseDigests = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<string?>> _localImageIds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RegistryClient> _baseRegistries = new(StringComparer.Ordinal);

    /// <param name="git">The git executable the source root's commit is read with (GIT_EXE through the run's environment).</param>
    public ImageBuilder(DockerCli docker, RegistryClient registry, ILogger console,
        Func<ILogger, IProcessRunner>? runnerFactory = null, IRegistryCredentialProvider? baseImageCredentials = null, string git = "git")
    {
        _git = git;
        _docker = docker;
        _registry = registry;
        _console = console;
        _runnerFactory = runnerFactory ?? (logger => new ProcessRunner(logger, registry.DryRun));
        _baseCredentials = baseImageCredentials;
    }

    /// <summary>Plans, then builds: for a caller that does not show the plan first.</summary>
    public async Task<BuildReport> BuildAsync(ImageBuildRequest request, CancellationToken cancellationToken) =>
        await BuildAsync(request, await PlanAsync(request, cancellationToken), cancellationToken);

    /// <summary>
    /// The read-only half: bad input fails here; then per image its fingerprint and whether the registry already has
    /// it (reuse) or not (build). Pushes nothing.
    /// </summary>
    public async Task<ImageBuildPlan> PlanAsync(ImageBuildRequest request, CancellationToken cancellationToken)
    {
        // The caller checks its user's input in its own words (the pipeline: before any target); these guard the contract.
        if (request.Images.Count == 0)
            throw new ArgumentException("No images to build.", nameof(request));
        ArgumentOutOfRangeException.ThrowIfLessThan(request.Parallelism, 1, nameof(request));
        if (request.Promote && string.IsNullOrEmpty(request.Environment))
            throw new ArgumentException("Promoting needs the environment whose tag to move.", nameof(request));

        if (request.SourceRoot is null)
        {
            if (!request.DryRun)
                throw new UsageException("No source root: images are built from a checkout of the application repository.", "Give the build the path of such a checkout.");
            return new ImageBuildPlan { Images = [.. request.Images.Select(i => new ImageDecision { Name = i.Name, Action = ImageAction.Unknown, Reason = DecisionReason.NoSourceRoot })] };
        }

        // Bad input fails here, before any side effect.
        var sources = request.Images.Select(i => ImageSource.Resolve(i, request.SourceRoot, request.CatalogDirectory)).ToList();
        // The probes, the revision and the local base-image lookups are independent: run them side by side, since an
        // unchanged run is mostly these round trips.
        var revisionTask = RevisionAsync(sources[0].SourceRoot, cancellationToken);
        foreach (var source in sources)
        {
            foreach (var baseImage in FingerprintCalculator.ReadDockerfile(source).ExternalBaseImages)
                _ = LocalImageIdAsync(_docker, baseImage, cancellationToken);
        }
        DockerEngine? engine = null;
        DockerBuilder builder;
        try
        {
            var engineTask = _docker.ProbeEngineAsync(cancellationToken);
            var builderTask = _docker.ProbeBuilderAsync(engineTask, cancellationToken);
            engine = await engineTask;
            builder = await builderTask;
        }
        catch (PrerequisiteMissingException e) when (request.DryRun)
        {
            _console.Warning("Not checked in dry-run: {Problem:l}", e.Problem);
            builder = new DockerBuilder(_docker.Options.PreferBuildx, _docker.Options.Builder, null, false, null);
        }
        var (commit, dirty) = await revisionTask;
        var revisionTag = ImageTags.Revision(commit, dirty);
        if (engine is null)
            _console.Information("No Docker engine was reached, so the commands below assume {Builder:l}; registry {Registry:l}; revision {Revision:l}",
                Describe(builder), request.Registry, revisionTag);
        else
            _console.Information("Docker engine {Version:l} at {Endpoint:l}; {Builder:l}; registry {Registry:l}; revision {Revision:l}",
                engine.ServerVersion, engine.Endpoint, Describe(builder), request.Registry, revisionTag);
        if (builder is { Buildx: true, CacheExportOffReason: { } reason })
            _console.Information("Registry layer cache is off: {Reason:l}", reason);
        if (request.RegistryNotChecked is { } notChecked)
            _console.Warning("Not checked in dry-run: {Problem:l}; whether each image would be reused is unknown.", notChecked);

        using var gate = new SemaphoreSlim(Math.Min(request.Parallelism, sources.Count));
        var decisions = await Task.WhenAll(sources.Select(async source =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                return await DecideAsync(source, request, builder, cancellationToken);
            }
            finally
            {
                gate.Release();
            }
        }));
        return new ImageBuildPlan { Images = decisions, Sources = sources, Builder = builder, Commit = commit, RevisionTag = revisionTag };
    }

    /// <summary>Fingerprint, then (unless it cannot prove the image unchanged) one registry lookup of its src- tag.</summary>
    private async Task<ImageDecision> DecideAsync(ImageSource source, ImageBuildRequest request, DockerBuilder builder, CancellationToken cancellationToken)
    {
        ImageFingerprint? fingerprint = null;
        try
        {
            var inputs = FingerprintCalculator.ReadDockerfile(source);
            var bases = await Task.WhenAll(inputs.ExternalBaseImages.Select(async b => new BaseImageDigest(b, await ResolveBaseAsync(_docker, b, builder.Buildx, cancellationToken))));
            fingerprint = FingerprintCalculator.Compute(source, inputs, bases);
            if (ImageDecision.BeforeLookup(source.Name, fingerprint, request.ForceBuild, registryChecked: request.RegistryNotChecked is null) is { } decided)
                return decided;
            var existing = await WithTransientRetryAsync(request, _console, () => _registry.GetManifestAsync(source.Definition.Repository, fingerprint.Tag, cancellationToken), cancellationToken);
            return ImageDecision.AfterLookup(source.Name, fingerprint, existing);
        }
        catch (Exception e) when (e is BuildFailure or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return new ImageDecision { Name = source.Name, Action = ImageAction.Build, Fingerprint = fingerprint, Reason = DecisionReason.WillFail, Failure = e };
        }
    }

    /// <summary>Acts on a plan of the same request: reuses what it found, builds and pushes the rest.</summary>
    public async Task<BuildReport> BuildAsync(ImageBuildRequest request, ImageBuildPlan plan, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        if (plan.Sources is not { } sources)
            return PlanWithoutSources(request, stopwatch);
        var builder = plan.Builder!;
        var (commit, revisionTag) = (plan.Commit, plan.RevisionTag);

        using var gate = new SemaphoreSlim(Math.Min(request.Parallelism, sources.Count));
        ImageReport[] images;
        request.Progress?.Begin([.. sources.Select(s => s.Name)]);
        try
        {
            var tasks = sources.Select(async source =>
            {
                await gate.WaitAsync(cancellationToken);
                try
                {
                    return await BuildOneAsync(source, plan[source.Name], request, builder, commit, revisionTag, cancellationToken);
                }
                finally
                {
                    gate.Release();
                }
            }).ToList();
            images = await Task.WhenAll(tasks);
        }
        finally
        {
            // The summary lines below print after the live view has let go of the console.
            request.Progress?.End();
        }

        var report = new BuildReport
        {
            Registry = request.Registry,
            Revision = commit,
            Environment = request.Environment,
            Promoted = request.Promote,
            DryRun = request.DryRun,
            Created = DateTimeOffset.UtcNow,
            Duration = stopwatch.Elapsed,
            Images = [.. images],
        };
        WriteSummary(report, _console);
        return report;
    }

    private static string Describe(DockerBuilder builder) =>
        !builder.Buildx ? "the classic builder (no buildx): docker build + docker push"
        : builder.Driver is null ? $"buildx{(builder.Name is null ? "" : $" builder '{builder.Name}'")}: docker buildx build --push"
        : $"buildx builder '{builder.Name}' ({builder.Driver} driver)";

    /// <summary>One line per image: outcome, digest, duration and tags, or the error and its log.</summary>
    public static void WriteSummary(BuildReport report, ILogger console)
    {
        foreach (var image in report.Images)
        {
            if (image.Outcome == ImageOutcome.Failed)
                console.Error("[{Image:l}] failed after {Duration:l}: {Error:l} (log: {Log:l})", image.Name, Durations.Format(image.Duration), image.Error, image.LogPath);
            else
                console.Information("[{Image:l}] {Outcome:l} {Digest:l} in {Duration:l}; tags {Tags:l}", image.Name, image.Outcome.ToString().ToLowerInvariant(),
                    image.Digest ?? "(no digest)", Durations.Format(image.Duration), string.Join(", ", image.Tags));
        }
    }

    /// <summary>Dry-run without a source root: the commands' shape, with tags that only the sources can give.</summary>
    private BuildReport PlanWithoutSources(ImageBuildRequest request, Stopwatch stopwatch)
    {
        const string Computed = "<computed at run time>";
        _console.Warning("Not checked in dry-run: no source root, so the git- and src- tags are {Computed:l}.", Computed);
        var images = new List<ImageReport>();
        foreach (var image in request.Images)
        {
            var reference = $"{request.Registry}/{image.Repository}";
            var tags = new List<string> { "git-" + Computed, "src-" + Computed };
            if (request.Promote)
                tags.AddRange(ImageTags.Promotion(image, request.Environment!));
            _console.Information("[{Image:l}] [dry-run] registry: GET {Reference:l}:src-{Computed:l}: reused? unknown. If present, its manifest is PUT as the other tags; else built: {Command:l}",
                image.Name, reference, Computed, string.Join(' ', DockerBuildCommands.ClassicBuild(new DockerBuildSpec
                {
                    Dockerfile = image.Dockerfile,
                    ContextDirectory = image.Context,
                    Platform = image.Platform,
                    Tags = [.. tags.Select(t => $"{reference}:{t}")],
                    BuildArgs = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, image.BuildArgs),
                    NoCache = request.NoCache,
                }).Prepend("docker")) + " && docker push ...");
            images.Add(new ImageReport { Name = image.Name, Registry = request.Registry, Repository = image.Repository, Outcome = ImageOutcome.Planned, Tags = [.. tags] });
        }
        return new BuildReport
        {
            Registry = request.Registry,
            Environment = request.Environment,
            Promoted = request.Promote,
            DryRun = true,
            Created = DateTimeOffset.UtcNow,
            Duration = stopwatch.Elapsed,
            Images = [.. images],
        };
    }

    private async Task<ImageReport> BuildOneAsync(ImageSource source, ImageDecision decision, ImageBuildRequest request, DockerBuilder builder, string commit, string revisionTag,
        CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var definition = source.Definition;
        var progress = request.Progress;
        var phase = ImagePhase.Probing;
        void Report(ImagePhase next, string? detail = null)
        {
            phase = next;
            progress?.Report(new ImageProgress(source.Name, next, detail, stopwatch.Elapsed));
        }
        void OutputLine(string line)
        {
            // BuildKit pushes inside the build step: its "#N pushing layers" line marks the switch.
            if (phase == ImagePhase.Building && PushingLine().IsMatch(line))
                phase = ImagePhase.Pushing;
            if (phase is ImagePhase.Building or ImagePhase.Pushing)
                progress?.Report(new ImageProgress(source.Name, phase, line, stopwatch.Elapsed));
        }
        // While a live view owns the console, the image's lines go to its log file only.
        var console = progress is { OwnsConsole: true } ? Serilog.Core.Logger.None : _console;
        using var log = new ImageLog(Path.GetFullPath(Path.Combine(request.LogDirectory, source.Name + ".log")), console, source.Name,
            progress is null ? null : OutputLine);
        Report(ImagePhase.Probing, decision.Fingerprint?.Tag);
        var docker = _docker.WithRunner(_runnerFactory(log.Logger));
        var reportBase = new ImageReport
        {
            Name = source.Name,
            Registry = request.Registry,
            Repository = definition.Repository,
            Outcome = ImageOutcome.Failed,
            Revision = commit,
            LogPath = log.Path,
        };
        using var timeout = new CancellationTokenSource(request.Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        var fingerprintValue = decision.Fingerprint?.Value;
        try
        {
            if (decision.Failure is { } failure)
                ExceptionDispatchInfo.Throw(failure);
            var fingerprint = decision.Fingerprint!;
            log.Logger.Debug("Fingerprint {Fingerprint:l} over {Count} context files{Whole:l}:", fingerprint.Value, fingerprint.FileCount,
                fingerprint.WholeContextReason is null ? "" : $" (whole context: {fingerprint.WholeContextReason})");
            foreach (var input in fingerprint.Inputs)
                log.Logger.Debug("  {Input:l}", input);

            var tags = new List<string> { revisionTag, fingerprint.Tag };
            if (request.Promote)
                tags.AddRange(ImageTags.Promotion(definition, request.Environment!));
            tags = [.. tags.Distinct(StringComparer.Ordinal)];
            var reference = $"{request.Registry}/{definition.Repository}";

            if (decision.Action == ImageAction.Unknown)
            {
                log.Logger.Information("[dry-run] registry: GET {Url:l} not sent (registry not checked): reused? unknown. If present, its manifest is PUT as {Tags:l}; else built:",
                    new Uri(_registry.BaseAddress, $"v2/{definition.Repository}/manifests/{fingerprint.Tag}"), string.Join(", ", tags.Where(t => t != fingerprint.Tag)));
            }
            else if (decision.Existing is { } existing)
            {
                log.Logger.Information("unchanged: {Reference:l}:{Tag:l} exists ({Digest:l}); tagging {Tags:l} without building", reference, fingerprint.Tag,
                    existing.Digest, string.Join(", ", tags.Where(t => t != fingerprint.Tag)));
                foreach (var tag in tags.Where(t => t != fingerprint.Tag))
                    await WithTransientRetryAsync(request, log.Logger, async () => { await _registry.PutManifestAsync(definition.Repository, tag, existing, token); return true; }, token);
                Report(ImagePhase.Reused, existing.Digest);
                return reportBase with { Outcome = ImageOutcome.Reused, Tags = [.. tags], Digest = existing.Digest, Fingerprint = fingerprint.Value, Duration = stopwatch.Elapsed };
            }
            else if (!fingerprint.IsComplete)
                log.Logger.Warning("base image digest unknown for {Bases:l}: building (cannot prove the image unchanged)",
                    string.Join(", ", fingerprint.BaseImages.Where(b => b.Digest is null).Select(b => b.Reference)));

            log.Logger.Information("building {Reference:l} ({Tags:l}){Why:l}", reference, string.Join(", ", tags), request.ForceBuild ? " (forced rebuild)" : "");
            var labels = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
            {
                [LabelPrefix + "revision"] = commit,
                [LabelPrefix + "source"] = request.SourceUrl ?? source.SourceRoot,
                [LabelPrefix + "created"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                [LabelPrefix + "title"] = definition.Repository,
            });
            var spec = new DockerBuildSpec
            {
                Dockerfile = source.DockerfilePath,
                ContextDirectory = source.ContextDirectory,
                Platform = definition.Platform,
                Tags = [.. tags.Select(t => $"{reference}:{t}")],
                Labels = labels,
                BuildArgs = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, definition.BuildArgs),
                NoCache = request.NoCache,
                Builder = builder.Buildx ? _docker.Options.Builder : null,
                RegistryCache = builder.Buildx && builder.CanExportCache ? $"{reference}:{ImageTags.Cache}" : null,
            };
            Report(ImagePhase.Building);
            await BuildAndPushAsync(docker, source, spec, builder, request, log, () => Report(ImagePhase.Pushing), token);
            var digest = request.DryRun ? null : await _registry.GetDigestAsync(definition.Repository, revisionTag, token);
            Report(request.DryRun ? ImagePhase.Planned : ImagePhase.Built, digest);
            return reportBase with
            {
                Outcome = request.DryRun ? ImageOutcome.Planned : ImageOutcome.Built,
                Tags = [.. tags],
                Digest = digest,
                Fingerprint = fingerprint.Value,
                Duration = stopwatch.Elapsed,
            };
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var error = $"exceeded its timeout of {Durations.Format(request.Timeout)} and was stopped{(request.TimeoutSetting is { } setting ? $" ({setting})" : "")}";
            log.Logger.Error("{Error:l}", error);
            Report(ImagePhase.Failed, error);
            return reportBase with { Error = error, Fingerprint = fingerprintValue, Duration = stopwatch.Elapsed, LastLines = [.. log.LastLines(40)] };
        }
        catch (BuildFailure e)
        {
            log.Logger.Error("{Error:l}{Fix:l}", e.Problem, e.Fix is null ? "" : $" Fix: {e.Fix}");
            Report(ImagePhase.Failed, e.Problem);
            return reportBase with { Error = e.Problem, Fingerprint = fingerprintValue, Duration = stopwatch.Elapsed, LastLines = [.. log.LastLines(40)] };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            log.Logger.Error(e, "{Error:l}", e.Message);
            Report(ImagePhase.Failed, e.Message);
            return reportBase with { Error = e.Message, Fingerprint = fingerprintValue, Duration = stopwatch.Elapsed, LastLines = [.. log.LastLines(40)] };
        }
    }

    private async Task BuildAndPushAsync(DockerCli docker, ImageSource source, DockerBuildSpec spec, DockerBuilder builder, ImageBuildRequest request,
        ImageLog log, Action pushing, CancellationToken cancellationToken)
    {
        // The context sent is the ignore-filtered copy, with either builder: the catalog's ignore file is honoured even
        // where Docker would only read <context>/.dockerignore (root-context images never send orchestrator/.env or .venv).
        using var staged = request.DryRun ? null : StagedContext.Create(source);
        if (staged is not null)
            spec = spec with { ContextDirectory = staged.Directory, Dockerfile = staged.Dockerfile };
        else
            log.Logger.Information("context {Context:l} filtered by {Ignore:l} (staged at run time)", source.ContextDirectory, source.IgnoreFilePath ?? "no ignore file");

        if (builder.Buildx)
        {
            await WithTransientRetryAsync(request, log.Logger, () => docker.RunAsync(DockerBuildCommands.BuildxBuild(spec), cancellationToken), cancellationToken,
                describe: $"building and pushing {spec.Tags[0]}");
            return;
        }
        // Without buildx, a newer CLI (or a BuildKit-default engine) would refuse to build: ask for the classic builder.
        await docker.Runner.RunAsync(docker.Command(DockerBuildCommands.ClassicBuild(spec)).WithEnvironment("DOCKER_BUILDKIT", "0"), cancellationToken);
        pushing();
        foreach (var tag in spec.Tags)
        {
            await WithTransientRetryAsync(request, log.Logger, () => docker.RunAsync(DockerBuildCommands.Push(tag), cancellationToken), cancellationToken,
                describe: $"pushing {tag}");
        }
    }

    /// <summary>Retries a step on transient registry errors (5xx, 429, resets, timeouts) with exponential backoff; names the registry and image otherwise.</summary>
    private static async Task<T> WithTransientRetryAsync<T>(ImageBuildRequest request, ILogger log, Func<Task<T>> step, CancellationToken cancellationToken, string? describe = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await step();
            }
            catch (ProcessFailedException e) when (attempt < request.TransientRetries && TransientErrors.IsTransient(e.Result.Output.Select(l => l.Text)))
            {
                var delay = request.RetryDelay * Math.Pow(2, attempt);
                log.Warning("transient registry error while {Step:l}; retry {Attempt} of {Max} in {Delay:l}", describe, attempt + 1, request.TransientRetries, Durations.Format(delay));
                await Task.Delay(delay, cancellationToken);
            }
            catch (ProcessFailedException e) when (describe is not null)
            {
                var last = e.Result.LastLines(5).LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? $"exit code {e.Result.ExitCode}";
                throw new BuildFailure($"{char.ToUpperInvariant(describe[0])}{describe[1..]} to registry {request.Registry} failed: {last}",
                    $"Check that {request.Registry} accepts pushes to this repository (credentials, repository exists, not read-only).", e);
            }
        }
    }

    private async Task<(string Commit, bool Dirty)> RevisionAsync(string sourceRoot, CancellationToken cancellationToken)
    {
        var git = new GitRepository(_runnerFactory(_console), sourceRoot, _git);
        try
        {
            return (await git.HeadCommitAsync(cancellationToken), await git.HasChangesAsync(cancellationToken));
        }
        catch (ProcessFailedException e)
        {
            throw new PrerequisiteMissingException($"The source root {sourceRoot} is not a git checkout ({e.Result.LastLines(1).FirstOrDefault()?.Trim()}); images are tagged with its commit.",
                "Use a git clone of the application repository as the source root.");
        }
    }

    /// <summary>
    /// The digest the builder will use for a base image. The classic builder uses the local engine's copy when it has one
    /// (so a locally built base counts), buildx resolves from the registry; each falls back to the other.
    /// </summary>
    private Task<string?> ResolveBaseAsync(DockerCli docker, string reference, bool buildx, CancellationToken cancellationToken) =>
        _baseDigests.GetOrAdd(reference, async r =>
        {
            if (!buildx && await LocalImageIdAsync(docker, r, cancellationToken) is { } localId)
                return localId;
            try
            {
                var parsed = ImageReference.Parse(r);
                var client = _baseRegistries.GetOrAdd(parsed.Registry, registry => registry == _registry.Registry ? _registry
                    : new RegistryClient(registry, _baseCredentials, _console, _registry.DryRun, retry: new RetryStrategyOptions<HttpResponseMessage> { MaxRetryAttempts = 1 }));
                if (await client.GetDigestAsync(parsed.Path, parsed.Reference, cancellationToken) is { } digest)
                    return digest;
            }
            catch (BuildFailure e)
            {
                _console.Debug("Base image {Reference:l}: {Problem:l}", r, e.Problem);
            }
            return buildx ? await LocalImageIdAsync(docker, r, cancellationToken) : null;
        });

    [System.Text.RegularExpressions.GeneratedRegex(@"^#\d+ pushing", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex PushingLine();

    private Task<string?> LocalImageIdAsync(DockerCli docker, string reference, CancellationToken cancellationToken) =>
        _localImageIds.GetOrAdd(reference, r => docker.LocalImageIdAsync(r, cancellationToken));
}

/// <summary>Output lines of docker that mean "try again": registry overload, resets, timeouts.</summary>
public static class TransientErrors
{
    private static readonly string[] Markers =
    [
        "toomanyrequests", "429 too many requests", "500 internal server error", "502 bad gateway", "503 service unavailable", "504 gateway timeout",
        "connection reset by peer", "i/o timeout", "tls handshake timeout", "unexpected eof", "broken pipe", "client.timeout exceeded",
    ];

    public static bool IsTransient(IEnumerable<string> output) =>
        output.Any(line => Markers.Any(m => line.Contains(m, StringComparison.OrdinalIgnoreCase)));
}
