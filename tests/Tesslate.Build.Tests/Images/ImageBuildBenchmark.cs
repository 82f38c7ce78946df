using System.Diagnostics;
using Tesslate.Build.Docker;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Images;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Images;

/// <summary>
/// The BuildImages benchmark (bench/images.sh runs it): four images that each wait 3 s, built in parallel and with
/// parallelism 1, then an unchanged second run. Explicit: it measures, it does not assert times.
/// </summary>
public sealed class ImageBuildBenchmark(DockerEngineFixture engine, RegistryFixture registry)
{
    [Fact(Explicit = true)]
    public async Task Parallel_builds_and_unchanged_reruns()
    {
        using var app = FixtureApp.Create();
        var busybox = await engine.BusyboxBaseAsync();
        var dockerfiles = new Dictionary<string, string>
        {
            ["backend"] = "orchestrator/Dockerfile",
            ["frontend"] = "app/Dockerfile.prod",
            ["ast"] = "services/ast/Dockerfile",
            ["marketplace"] = "packages/tesslate-marketplace/Dockerfile",
        };
        foreach (var (_, dockerfile) in dockerfiles)
            app.Write(dockerfile, $"FROM {busybox}\nRUN [\"/bin/busybox\", \"sleep\", \"3\"]\n");
        app.Commit("benchmark Dockerfiles");
        var ns = RegistryFixture.NewNamespace();
        var images = ImageCatalog.Load(RepositoryPaths.Images).Select(dockerfiles.Keys).Select(i => i with { Repository = $"{ns}/{i.Repository}" }).ToList();
        var logs = Directory.CreateTempSubdirectory("tesslate-bench-").FullName;
        var console = new LogCapture().Logger;
        using var client = new RegistryClient(registry.Address, logger: console);
        var builder = new ImageBuilder(new DockerCli(new ProcessRunner(console), new DockerOptions { Executable = engine.DockerExecutable, Host = engine.Host }), client, console);
        var request = new ImageBuildRequest { Images = images, SourceRoot = app.Root, Registry = registry.Address, LogDirectory = logs, CatalogDirectory = RepositoryPaths.Images };

        async Task<TimeSpan> Time(ImageBuildRequest r)
        {
            var stopwatch = Stopwatch.StartNew();
            var report = await builder.BuildAsync(r, TestContext.Current.CancellationToken);
            report.EnsureSuccess();
            return stopwatch.Elapsed;
        }

        // Warm-up: the first push of each repository and the base image lookup.
        await Time(request with { ForceBuild = true });
        var parallel = await Time(request with { ForceBuild = true, NoCache = true, Parallelism = 4 });
        var serial = await Time(request with { ForceBuild = true, NoCache = true, Parallelism = 1 });
        var unchanged = await Time(request);
        var lines = new[]
        {
            $"4 images x RUN sleep 3, classic builder, docker {engine.DockerExecutable}",
            $"parallel (--build-parallelism 4): {Durations.Format(parallel)}",
            $"serial   (--build-parallelism 1): {Durations.Format(serial)}",
            $"parallel / serial: {parallel / serial:0.00}x (goal <= 0.40x)",
            $"unchanged second run: {Durations.Format(unchanged)} = {unchanged / parallel:0.000}x of a parallel build (goal <= 0.05x)",
        };
        foreach (var line in lines)
            TestContext.Current.TestOutputHelper?.WriteLine(line);
        if (Environment.GetEnvironmentVariable("TESSLATE_BENCH_OUTPUT") is { Length: > 0 } output)
            await File.WriteAllLinesAsync(output, lines, TestContext.Current.CancellationToken);
        Directory.Delete(logs, true);
    }
}
