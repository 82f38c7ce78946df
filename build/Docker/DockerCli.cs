using System.Collections.Immutable;
using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Tools;

namespace Tesslate.Build.Docker;

/// <summary>How to reach docker: the executable and, optionally, the engine endpoint or context to use instead of the CLI's own choice.</summary>
public sealed record DockerOptions
{
    /// <summary>The docker CLI (found on PATH; <c>DOCKER_EXE</c> overrides, as for every tool).</summary>
    public string Executable { get; init; } = "docker";

    /// <summary>DOCKER_HOST for every docker command; null keeps the CLI's own choice (DOCKER_HOST, DOCKER_CONTEXT, current context).</summary>
    public string? Host { get; init; }

    /// <summary>A buildx builder name (docker's <c>--builder</c>).</summary>
    public string? Builder { get; init; }

    /// <summary>How the caller's user names <see cref="Builder"/> (the pipeline: <c>--builder</c>), for the messages; null: not offered.</summary>
    public string? BuilderSetting { get; init; }

    /// <summary>Use buildx when the CLI has it (the default), or never (classic <c>docker build</c> + <c>docker push</c>).</summary>
    public bool PreferBuildx { get; init; } = true;
}

/// <summary>The engine the CLI reached: where it is and what it is.</summary>
public sealed record DockerEngine(string Endpoint, string ServerVersion, bool? ContainerdImageStore);

/// <summary>What the builder can do: buildx or not, its driver, and whether it can export a registry cache (and why not).</summary>
public sealed record DockerBuilder(bool Buildx, string? Name, string? Driver, bool CanExportCache, string? CacheExportOffReason);

/// <summary>The docker CLI through <see cref="IProcessRunner"/>: argument lists only, passwords never in argv.</summary>
public sealed class DockerCli(IProcessRunner runner, DockerOptions options)
{
    /// <summary>An engine behind a dead TCP endpoint would otherwise keep the CLI waiting.</summary>
    private static readonly TimeSpan EngineProbeTimeout = TimeSpan.FromSeconds(20);

    public DockerOptions Options { get; } = options;

    public IProcessRunner Runner { get; } = runner;

    /// <summary>The same CLI writing through another runner (e.g. one that logs to an image's own log file).</summary>
    public DockerCli WithRunner(IProcessRunner other) => new(other, Options);

    public ToolCommand Command(IEnumerable<string> arguments) => CommandFor(Options, arguments);

    /// <summary>A docker command with these options' executable and engine; every docker command is built here.</summary>
    public static ToolCommand CommandFor(DockerOptions options, IEnumerable<string> arguments)
    {
        var command = new ToolCommand(options.Executable, arguments).Prefixed("docker");
        if (options.Host is not null)
            command = command.WithEnvironment("DOCKER_HOST", options.Host).WithEnvironment("DOCKER_CONTEXT", null);
        return command;
    }

    /// <summary><c>docker login</c> to <paramref name="registry"/> with this CLI and engine (see <see cref="DockerLogin"/>).</summary>
    public Task LoginAsync(string registry, string username, string password, CancellationToken cancellationToken, string? dockerConfig = null) =>
        DockerLogin.LoginAsync(Runner, registry, username, password, cancellationToken, dockerConfig, Options);

    public Task<ProcessResult> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        Runner.RunAsync(Command(arguments), cancellationToken);

    private async Task<ProcessResult?> ProbeAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        try
        {
            return await Runner.RunAsync(Command(arguments).AsProbe(), cancellationToken);
        }
        catch (Exception e) when (e is ProcessFailedException or PrerequisiteMissingException)
        {
            return null;
        }
    }

    /// <summary>Which endpoint the CLI will use and why: the given host, DOCKER_HOST, DOCKER_CONTEXT, or the current context.</summary>
    public async Task<string> DescribeEndpointAsync(CancellationToken cancellationToken)
    {
        if (Options.Host is not null)
            return $"{Options.Host} (DOCKER_HOST)";
        if (System.Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host)
            return $"{host} (from DOCKER_HOST)";
        var contextName = System.Environment.GetEnvironmentVariable("DOCKER_CONTEXT");
        var inspect = await ProbeAsync(contextName is { Length: > 0 } ? ["context", "inspect", contextName, "--format", "{{.Name}} {{.Endpoints.docker.Host}}"]
            : ["context", "inspect", "--format", "{{.Name}} {{.Endpoints.docker.Host}}"], cancellationToken);
        var parts = inspect?.StandardOutput.Trim().Split(' ', 2);
        if (parts is { Length: 2 })
            return contextName is { Length: > 0 } ? $"{parts[1]} (context '{parts[0]}' from DOCKER_CONTEXT)" : $"{parts[1]} (current docker context '{parts[0]}')";
        return "the docker CLI's default endpoint (unix:///var/run/docker.sock)";
    }

    /// <summary>Asks the engine for its version; unreachable → a prerequisite failure naming the endpoint tried and how to start one.</summary>
    public async Task<DockerEngine> ProbeEngineAsync(CancellationToken cancellationToken)
    {
        var endpoint = await DescribeEndpointAsync(cancellationToken);
        PrerequisiteMissingException NoEngine(string reason) => new($"No Docker engine answered at {endpoint}: {reason.Trim()}",
            "Start one: Docker Desktop (macOS/Windows), `sudo systemctl start docker` (Linux), or `dockerd --host unix:///tmp/docker.sock` and " +
            "set DOCKER_HOST=unix:///tmp/docker.sock; or choose another with `docker context use NAME`.");
        ProcessResult? version;
        try
        {
            version = await Runner.RunAsync(Command(["version", "--format", "{{.Server.Version}}"]).AsProbe() with { Timeout = EngineProbeTimeout },
                cancellationToken);
        }
        catch (ProcessFailedException e)
        {
            throw NoEngine(e.Result.LastLines(3).LastOrDefault(l => l.Trim().Length > 0) ?? "no answer");
        }
        catch (BuildFailure e) when (e is not PrerequisiteMissingException)
        {
            throw NoEngine(e.Problem);
        }
        if (version.WasDryRun)
            return new DockerEngine(endpoint, "unknown (dry-run)", false);
        return new DockerEngine(endpoint, version.StandardOutput.Trim(), null);
    }

    /// <summary>Whether the engine stores images in containerd (then the default buildx driver can export a cache).</summary>
    public async Task<bool> UsesContainerdImageStoreAsync(CancellationToken cancellationToken)
    {
        var info = await ProbeAsync(["info", "--format", "{{json .DriverStatus}}"], cancellationToken);
        return info?.StandardOutput.Contains("io.containerd.snapshotter", StringComparison.Ordinal) == true;
    }

    /// <summary>Whether buildx is there and which driver its builder uses; cache export only with drivers that can.</summary>
    public async Task<DockerBuilder> ProbeBuilderAsync(DockerEngine engine, CancellationToken cancellationToken) =>
        await ProbeBuilderAsync(Task.FromResult(engine), cancellationToken);

    /// <summary>The builder probe can start before the engine probe finishes; it waits for the engine only when the driver needs it.</summary>
    public async Task<DockerBuilder> ProbeBuilderAsync(Task<DockerEngine> engineProbe, CancellationToken cancellationToken)
    {
        if (!Options.PreferBuildx || await ProbeAsync(["buildx", "version"], cancellationToken) is not { WasDryRun: false })
        {
            if (Options.Builder is not null)
                throw new PrerequisiteMissingException($"The buildx builder '{Options.Builder}'{(Options.BuilderSetting is { } named ? $" ({named})" : "")} needs docker buildx, which this docker CLI does not have.",
                    $"Install the buildx plugin (https://github.com/docker/buildx#installing), or name no builder{(Options.BuilderSetting is { } setting ? $" (drop {setting})" : "")} to use the classic builder.");
            return new DockerBuilder(false, null, null, false, "the classic builder (no buildx) cannot export a registry cache");
        }
        var inspect = await ProbeAsync(Options.Builder is null ? ["buildx", "inspect"] : ["buildx", "inspect", Options.Builder], cancellationToken);
        if (inspect is null && Options.Builder is not null)
            throw new PrerequisiteMissingException($"The buildx builder '{Options.Builder}' does not exist.",
                $"Create it (`docker buildx create --name {Options.Builder} --driver docker-container`, or `--driver remote tcp://HOST:1234`), or list builders with `docker buildx ls`.");
        var (name, driver) = ParseBuildxInspect(inspect?.StandardOutput ?? "");
        var containerd = driver == "docker" && ((await engineProbe).ContainerdImageStore ?? await UsesContainerdImageStoreAsync(cancellationToken));
        return JudgeBuilder(name ?? Options.Builder, driver, containerd, Options.BuilderSetting);
    }

    /// <summary>Name and driver from <c>docker buildx inspect</c>'s text output.</summary>
    public static (string? Name, string? Driver) ParseBuildxInspect(string output)
    {
        var lines = output.Split('\n').Select(l => l.Trim()).ToList();
        string? Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal))?[(name.Length + 1)..].Trim();
        return (Field("Name"), Field("Driver"));
    }

    /// <summary>Registry cache export needs a driver that can export: docker-container, remote, kubernetes, or docker with the containerd store.</summary>
    /// <param name="builderSetting">How the caller's user names a builder, for the reason; null: not offered.</param>
    public static DockerBuilder JudgeBuilder(string? name, string? driver, bool containerdImageStore, string? builderSetting = null)
    {
        var canExport = driver is "docker-container" or "remote" or "kubernetes" || driver == "docker" && containerdImageStore;
        var reason = canExport ? null
            : $"builder '{name}' uses the '{driver ?? "unknown"}' driver, which cannot export a registry cache without the containerd image store " +
              $"(`docker buildx create --driver docker-container --use`{(builderSetting is null ? "" : $", or pass {builderSetting} NAME")})";
        return new DockerBuilder(true, name, driver, canExport, reason);
    }

    /// <summary>The ID of an image in the local engine (its config digest), or null when the engine does not have it.</summary>
    public async Task<string?> LocalImageIdAsync(string reference, CancellationToken cancellationToken)
    {
        var result = await ProbeAsync(["image", "inspect", "--format", "{{.Id}}", reference], cancellationToken);
        var id = result?.StandardOutput.Trim();
        return string.IsNullOrEmpty(id) || result!.WasDryRun ? null : id;
    }
}
