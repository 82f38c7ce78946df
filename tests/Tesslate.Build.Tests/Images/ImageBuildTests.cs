using System.Collections.Concurrent;
using System.Formats.Tar;
using Serilog;
using Tesslate.Build.Docker;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Images;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Images;

/// <summary>Builds the fixture application's images against the real Docker engine and registry (classic builder path).</summary>
public sealed class ImageBuildTests(DockerEngineFixture engine, RegistryFixture registry) : IDisposable
{
    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly string _namespace = RegistryFixture.NewNamespace();
    private readonly string _logs = Directory.CreateTempSubdirectory("tesslate-logs-").FullName;
    private readonly ImageCatalog _catalog = ImageCatalog.Load(RepositoryPaths.Images);
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private sealed record Run(BuildReport Report, IReadOnlyList<ToolCommand> Commands, LogCapture Console);

    private IReadOnlyList<ImageDefinition> Images(params string[] names) =>
        [.. _catalog.Select(names).Select(i => i with { Repository = $"{_namespace}/{i.Repository}" })];

    private async Task<Run> BuildAsync(IReadOnlyList<ImageDefinition> images, Func<ImageBuildRequest, ImageBuildRequest>? configure = null,
        DockerOptions? options = null, RegistryClient? client = null, LogCapture? console = null, Func<IProcessRunner, IProcessRunner>? wrap = null)
    {
        wrap ??= runner => runner;
        var sink = console ?? new LogCapture();
        var log = sink.Logger;
        var commands = new ConcurrentQueue<ToolCommand>();
        var request = new ImageBuildRequest
        {
            Images = images,
            CatalogDirectory = RepositoryPaths.Images,
            SourceRoot = _app.Root,
            Registry = registry.Address,
            LogDirectory = _logs,
            RetryDelay = TimeSpan.FromMilliseconds(100),
        };
        request = configure?.Invoke(request) ?? request;
        options ??= new DockerOptions { Executable = engine.DockerExecutable, Host = engine.Host };
        using var ownClient = client is null ? new RegistryClient(request.Registry, logger: log, dryRun: request.DryRun) : null;
        var docker = new DockerCli(wrap(new RecordingProcessRunner(new ProcessRunner(log, request.DryRun), commands)), options);
        var builder = new ImageBuilder(docker, client ?? ownClient!, log,
            logger => wrap(new RecordingProcessRunner(new ProcessRunner(logger, request.DryRun), commands)));
        var report = await builder.BuildAsync(request, Token);
        return new Run(report, [.. commands], sink);
    }

    private RegistryClient Registry() => new(registry.Address);

    private static bool IsBuild(ToolCommand c) => c.Arguments.FirstOrDefault() == "build" || c.Arguments.Take(2).SequenceEqual(["buildx", "build"]);

    [Fact]
    public async Task Three_images_build_in_parallel_and_push_immutable_tags_with_oci_labels()
    {
        var run = await BuildAsync(Images("backend", "frontend", "ast"));

        Assert.True(run.Report.Succeeded, string.Join("\n", run.Report.Failed.Select(f => f.Error + "\n" + string.Join("\n", f.LastLines))));
        Assert.Contains("classic builder (no buildx)", run.Console.Text);
        Assert.Equal(3, run.Commands.Count(IsBuild));
        using var client = Registry();
        var revision = "git-" + _app.Head[..12];
        foreach (var image in run.Report.Images)
        {
            Assert.Equal(ImageOutcome.Built, image.Outcome);
            var tags = await client.ListTagsAsync(image.Repository, Token);
            Assert.Equal(new[] { revision, "src-" + image.Fingerprint }.Order(), tags);
            Assert.Equal(image.Digest, await client.GetDigestAsync(image.Repository, revision, Token));
            var labels = await client.GetLabelsAsync(image.Repository, revision, Token);
            Assert.Equal(_app.Head, labels["org.opencontainers.image.revision"]);
            Assert.Equal(image.Repository, labels["org.opencontainers.image.title"]);
            Assert.Equal(_app.Root, labels["org.opencontainers.image.source"]);
            Assert.True(DateTimeOffset.TryParse(labels["org.opencontainers.image.created"], out _));
            Assert.True(File.Exists(image.LogPath));
            Assert.Contains("Step 1/", File.ReadAllText(image.LogPath!));
        }
        // Progress lines reach the console prefixed with the image name.
        Assert.Contains(run.Console.Lines, l => l.StartsWith("[\"ast\"] Step 1/", StringComparison.Ordinal) || l.StartsWith("[ast] Step 1/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task At_most_build_parallelism_builds_run_at_once_and_more_than_one_do()
    {
        var busybox = await engine.BusyboxBaseAsync();
        string[] names = ["backend", "frontend", "ast", "marketplace"];
        foreach (var dockerfile in new[] { "orchestrator/Dockerfile", "app/Dockerfile.prod", "services/ast/Dockerfile", "packages/tesslate-marketplace/Dockerfile" })
            _app.Write(dockerfile, $"FROM {busybox}\nRUN [\"/bin/busybox\", \"true\"]\n");
        _app.Commit("four small images");
        var builds = new BuildOverlap(names.Length, atOnce: 2);

        var run = await BuildAsync(Images(names), r => r with { Parallelism = 2 }, wrap: builds.Around);

        Assert.True(run.Report.Succeeded, string.Join("\n", run.Report.Failed.Select(f => f.Error)));
        Assert.Equal(names.Length * 2, builds.Events.Count);
        Assert.Equal(2, builds.MostAtOnce);
        // Ordering, not duration: the first end comes after the second start.
        Assert.Equal([true, true], builds.Events.Take(2).Select(e => e.Start));
    }

    /// <summary>
    /// Records the start and end of every image build (a <c>docker build</c> or <c>docker buildx build</c> process) in
    /// the order they happen. A started build waits (at most 10 s) until <c>atOnce</c> builds are under way, or every
    /// build has started: so more than one overlap whenever the builder allows it, however fast each build is, and a
    /// builder that runs them one by one shows one at a time.
    /// </summary>
    private sealed class BuildOverlap(int total, int atOnce)
    {
        private readonly Lock _gate = new();
        private readonly List<(bool Start, int InFlight)> _events = [];
        private readonly int _total = total;
        private readonly int _atOnce = atOnce;
        private int _inFlight;
        private int _started;

        public IReadOnlyList<(bool Start, int InFlight)> Events { get { lock (_gate) return [.. _events]; } }

        public int MostAtOnce => Events.Max(e => e.InFlight);

        public IProcessRunner Around(IProcessRunner inner) => new Runner(this, inner);

        private sealed class Runner(BuildOverlap overlap, IProcessRunner inner) : IProcessRunner
        {
            public bool DryRun => inner.DryRun;

            public async Task<ProcessResult> RunAsync(ToolCommand command, CancellationToken cancellationToken)
            {
                if (!IsBuild(command))
                    return await inner.RunAsync(command, cancellationToken);
                lock (overlap._gate)
                {
                    overlap._started++;
                    overlap._events.Add((true, ++overlap._inFlight));
                }
                var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
                while (DateTime.UtcNow < until)
                {
                    lock (overlap._gate)
                    {
                        if (overlap._inFlight >= overlap._atOnce || overlap._started == overlap._total)
                            break;
                    }
                    await Task.Delay(10, cancellationToken);
                }
                try
                {
                    return await inner.RunAsync(command, cancellationToken);
                }
                finally
                {
                    lock (overlap._gate)
                        overlap._events.Add((false, overlap._inFlight--));
                }
            }
        }
    }

    [Fact]
    public async Task A_second_run_reuses_every_image_without_asking_the_engine_for_a_build()
    {
        var images = Images("backend", "frontend", "ast");
        var first = await BuildAsync(images);
        Assert.True(first.Report.Succeeded);
        _app.Commit("an empty commit: new revision, same sources");

        var second = await BuildAsync(images);

        Assert.All(second.Report.Images, i => Assert.Equal(ImageOutcome.Reused, i.Outcome));
        Assert.DoesNotContain(second.Commands, IsBuild);
        Assert.DoesNotContain(second.Commands, c => c.Arguments.FirstOrDefault() is "push" or "pull");
        using var client = Registry();
        foreach (var image in second.Report.Images)
        {
            // The new git- tag points at the same manifest, and the image keeps the labels of the build that produced it.
            Assert.Equal(first.Report[image.Name]!.Digest, image.Digest);
            Assert.Equal(image.Digest, await client.GetDigestAsync(image.Repository, "git-" + _app.Head[..12], Token));
            Assert.Equal(first.Report.Revision, (await client.GetLabelsAsync(image.Repository, "git-" + _app.Head[..12], Token))["org.opencontainers.image.revision"]);
        }
    }

    [Fact]
    public async Task A_change_to_one_fixture_file_rebuilds_only_that_image_and_the_others_get_the_new_git_tag()
    {
        var images = Images("backend", "frontend", "ast");
        var first = await BuildAsync(images);
        _app.Write("services/ast/src/index.js", "console.log('ast v2')");
        var head = _app.Commit("change ast");

        var second = await BuildAsync(images);

        Assert.Equal(ImageOutcome.Built, second.Report["ast"]!.Outcome);
        Assert.NotEqual(first.Report["ast"]!.Digest, second.Report["ast"]!.Digest);
        Assert.Equal(ImageOutcome.Reused, second.Report["backend"]!.Outcome);
        Assert.Equal(ImageOutcome.Reused, second.Report["frontend"]!.Outcome);
        Assert.Single(second.Commands, IsBuild);
        using var client = Registry();
        Assert.Equal(first.Report["backend"]!.Digest, await client.GetDigestAsync(second.Report["backend"]!.Repository, "git-" + head[..12], Token));
    }

    [Fact]
    public async Task One_broken_dockerfile_fails_only_its_image_and_keeps_the_others_results()
    {
        _app.Write("app/Dockerfile.prod", "FROM scratch\nCOPY does-not-exist.txt /x\n");
        _app.Commit("break the frontend");

        var run = await BuildAsync(Images("backend", "frontend", "ast"));

        Assert.Equal(ImageOutcome.Failed, run.Report["frontend"]!.Outcome);
        Assert.Equal(ImageOutcome.Built, run.Report["backend"]!.Outcome);
        Assert.Equal(ImageOutcome.Built, run.Report["ast"]!.Outcome);
        var failure = Assert.Throws<BuildFailure>(run.Report.EnsureSuccess);
        Assert.Contains("1 of 3 images failed: frontend", failure.Problem);
        Assert.Contains("does-not-exist.txt", failure.Problem);
        Assert.Contains(Path.Combine(_logs, "frontend.log"), failure.Problem);
        Assert.InRange(run.Report["frontend"]!.LastLines.Length, 1, 40);
    }

    /// <summary>A display that owns the console, as the live view does: records events and what the console got meanwhile.</summary>
    private sealed class RecordingProgress(LogCapture console) : IImageBuildProgress
    {
        public ConcurrentQueue<ImageProgress> Events { get; } = new();

        public List<string> Begun { get; } = [];

        public int LinesAtBegin { get; private set; } = -1;

        public int LinesAtEnd { get; private set; } = -1;

        public bool OwnsConsole => true;

        public void Report(ImageProgress value) => Events.Enqueue(value);

        public void Begin(IReadOnlyList<string> images)
        {
            Begun.AddRange(images);
            LinesAtBegin = console.Lines.Count;
        }

        public void End() => LinesAtEnd = console.Lines.Count;

        public IReadOnlyList<ImagePhase> Phases(string image) =>
            [.. Events.Where(e => e.Image == image).Select(e => e.Phase).Distinct()];
    }

    [Fact]
    public async Task A_console_owning_progress_display_gets_every_phase_and_the_console_gets_nothing_until_it_ends()
    {
        _app.Write("app/Dockerfile.prod", "FROM scratch\nCOPY does-not-exist.txt /x\n");
        _app.Commit("break the frontend");
        var sink = new LogCapture();
        RecordingProgress? progress = null;

        var run = await BuildAsync(Images("ast", "frontend"), r => r with { Progress = progress = new RecordingProgress(sink) }, console: sink);

        Assert.Equal(["ast", "frontend"], progress!.Begun);
        Assert.True(progress.LinesAtBegin > 0, "the engine and registry line prints before the view starts");
        Assert.Equal(progress.LinesAtBegin, progress.LinesAtEnd);
        Assert.Equal([ImagePhase.Probing, ImagePhase.Building, ImagePhase.Pushing, ImagePhase.Built], progress.Phases("ast"));
        Assert.Contains(progress.Events, e => e.Image == "ast" && e.Phase == ImagePhase.Building && BuildProgressBoard.Step(e.Detail ?? "") is not null);
        Assert.Equal([ImagePhase.Probing, ImagePhase.Building, ImagePhase.Failed], progress.Phases("frontend"));
        Assert.Contains("does-not-exist.txt", progress.Events.Last(e => e.Image == "frontend").Detail);
        var summary = run.Console.Lines.Skip(progress.LinesAtEnd).ToList();
        Assert.Contains(summary, l => l.StartsWith("[ast] built sha256:", StringComparison.Ordinal));
        Assert.Contains(summary, l => l.StartsWith("[frontend] failed after", StringComparison.Ordinal));
        Assert.Contains("Step 1/", File.ReadAllText(run.Report["ast"]!.LogPath!));

        var again = new RecordingProgress(sink);
        await BuildAsync(Images("ast"), r => r with { Progress = again }, console: sink);
        Assert.Equal([ImagePhase.Probing, ImagePhase.Reused], again.Phases("ast"));
    }

    [Fact]
    public async Task The_environment_tag_moves_only_with_promote_and_latest_only_on_production()
    {
        var images = Images("devserver", "ast");
        await BuildAsync(images, r => r with { Environment = "beta" });
        using var client = Registry();
        Assert.DoesNotContain("beta", await client.ListTagsAsync(images[0].Repository, Token));

        await BuildAsync(images, r => r with { Environment = "production", Promote = true });
        var devserverTags = await client.ListTagsAsync(images[0].Repository, Token);
        Assert.Contains("production", devserverTags);
        Assert.Contains("latest", devserverTags);
        var astTags = await client.ListTagsAsync(images[1].Repository, Token);
        Assert.Contains("production", astTags);
        Assert.DoesNotContain("latest", astTags);
        Assert.DoesNotContain("beta", astTags);
    }

    [Fact]
    public async Task Root_context_images_never_send_orchestrator_env_or_venv_to_the_builder()
    {
        _app.Write("orchestrator/.env", "OPENAI_API_KEY=sk-developer-secret");
        _app.Write("orchestrator/.venv/bin/python", "#!/bin/sh");
        var run = await BuildAsync(Images("backend"));
        Assert.True(run.Report.Succeeded);

        var reference = $"{registry.Address}/{run.Report["backend"]!.Repository}:{run.Report["backend"]!.Tags[0]}";
        var container = (await engine.DockerAsync("create", reference, "none")).Trim();
        var tar = Path.Combine(_logs, "backend.tar");
        await engine.DockerAsync("export", "--output", tar, container);
        await engine.DockerAsync("rm", container);
        var entries = new List<string>();
        using (var reader = new TarReader(File.OpenRead(tar)))
        {
            while (reader.GetNextEntry() is { } entry)
                entries.Add(entry.Name.TrimStart('.', '/'));
        }
        Assert.Contains("app/app/main.py", entries);
        Assert.Contains("opt/tesslate-agent/agent.txt", entries); // the submodule's files are in
        Assert.DoesNotContain(entries, e => e.Contains(".env", StringComparison.Ordinal) || e.Contains(".venv", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_build_that_exceeds_its_timeout_fails_that_image_only()
    {
        var busybox = await engine.BusyboxBaseAsync();
        _app.Write("services/ast/Dockerfile", $"FROM {busybox}\nRUN [\"/bin/busybox\", \"sleep\", \"600\"]\n");
        // Generous enough that the tiny frontend build finishes even on a loaded machine; ast never would.
        var timeout = TimeSpan.FromSeconds(20);
        var run = await BuildAsync(Images("ast", "frontend"), r => r with { Timeout = timeout, TimeoutSetting = "--per-image-timeout" });

        Assert.Equal(ImageOutcome.Failed, run.Report["ast"]!.Outcome);
        Assert.Equal($"exceeded its timeout of {Durations.Format(timeout)} and was stopped (--per-image-timeout)", run.Report["ast"]!.Error);
        Assert.Equal(ImageOutcome.Built, run.Report["frontend"]!.Outcome);
    }

    [Fact]
    public async Task A_locally_built_base_image_digest_is_part_of_the_fingerprint()
    {
        var busybox = await engine.BusyboxBaseAsync();
        _app.Write("services/ast/Dockerfile", $"FROM {busybox}\nCOPY src/ /app/src/\n");
        var first = await BuildAsync(Images("ast"));
        Assert.Equal(ImageOutcome.Built, first.Report["ast"]!.Outcome);
        Assert.Contains($"from {busybox} sha256:", File.ReadAllText(first.Report["ast"]!.LogPath!));
        Assert.Equal(ImageOutcome.Reused, (await BuildAsync(Images("ast"))).Report["ast"]!.Outcome);
    }

    [Fact]
    public async Task Force_build_and_no_cache_build_anyway()
    {
        await BuildAsync(Images("ast"));
        var run = await BuildAsync(Images("ast"), r => r with { ForceBuild = true, NoCache = true });
        Assert.Equal(ImageOutcome.Built, run.Report["ast"]!.Outcome);
        Assert.Contains(run.Commands, c => IsBuild(c) && c.Arguments.Contains("--no-cache"));
    }

    [Fact]
    public async Task Dry_run_prints_docker_commands_and_registry_calls_and_pushes_nothing()
    {
        var images = Images("backend", "ast");
        var run = await BuildAsync(images, r => r with { DryRun = true });

        Assert.All(run.Report.Images, i => Assert.Equal(ImageOutcome.Planned, i.Outcome));
        TestContext.Current.TestOutputHelper?.WriteLine(run.Console.Text);
        Assert.Contains(run.Console.Lines, l => l.Contains("[dry-run] would run:", StringComparison.Ordinal) && l.Contains(" build ", StringComparison.Ordinal) && l.Contains("git-" + _app.Head[..12], StringComparison.Ordinal));
        Assert.Contains(run.Console.Lines, l => l.Contains("[dry-run] would run:", StringComparison.Ordinal) && l.Contains(" push ", StringComparison.Ordinal));
        Assert.Contains(run.Console.Lines, l => l.Contains("[dry-run] registry: GET", StringComparison.Ordinal) && l.Contains("/manifests/src-", StringComparison.Ordinal));
        using var client = Registry();
        Assert.Empty(await client.ListTagsAsync(images[0].Repository, Token));
    }

    [Fact]
    public async Task Without_a_source_root_a_dry_run_plans_with_tags_computed_at_run_time_and_a_real_run_is_a_usage_error()
    {
        var images = Images("backend");
        var plan = await BuildAsync(images, r => r with { SourceRoot = null, DryRun = true });
        Assert.Equal(ImageOutcome.Planned, plan.Report["backend"]!.Outcome);
        Assert.Contains("computed at run time", plan.Console.Text);

        // The builder only guards its request: Build refuses a missing --source-root (with the three ways to set it) first.
        var error = await Assert.ThrowsAsync<UsageException>(() => BuildAsync(images, r => r with { SourceRoot = null }));
        Assert.Contains("No source root", error.Problem);
        Assert.Contains("checkout", error.Fix);
    }

    [Fact]
    public async Task No_reachable_engine_names_the_endpoint_tried_and_how_to_start_one()
    {
        var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() =>
            BuildAsync(Images("ast"), options: new DockerOptions { Executable = engine.DockerExecutable, Host = "unix:///tmp/no-such-engine.sock" }));
        Assert.Contains("unix:///tmp/no-such-engine.sock", error.Problem);
        Assert.Contains("Start one", error.Fix);
    }

    [Fact]
    public async Task A_registry_that_refuses_the_push_fails_each_image_naming_the_registry_and_the_image()
    {
        var readOnly = await RegistryServer.StartAsync(RegistryAccess.ReadOnly);
        try
        {
            var run = await BuildAsync(Images("ast", "frontend"), r => r with { Registry = readOnly.Address, TransientRetries = 0 });
            foreach (var name in new[] { "ast", "frontend" })
            {
                var image = run.Report[name]!;
                Assert.Equal(ImageOutcome.Failed, image.Outcome);
                Assert.Contains($"registry {readOnly.Address}", image.Error);
                Assert.Contains($"{readOnly.Address}/{image.Repository}", image.Error);
            }
        }
        finally
        {
            readOnly.Dispose();
        }
    }

    [Fact]
    public async Task Retagging_an_oci_index_keeps_its_bytes_content_type_and_digest()
    {
        var run = await BuildAsync(Images("ast"));
        var image = run.Report["ast"]!;
        using var client = Registry();
        var manifest = (await client.GetManifestAsync(image.Repository, image.Digest!, Token))!;
        var index = System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"schemaVersion":2,"mediaType":"{{{RegistryClient.OciIndex}}}","manifests":[{"mediaType":"{{{manifest.MediaType}}}","digest":"{{{manifest.Digest}}}","size":{{{manifest.Content.Length}}},"platform":{"architecture":"amd64","os":"linux"}}]}""");
        var indexDigest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(index));
        await client.PutManifestAsync(image.Repository, "multi", new RegistryManifest(RegistryClient.OciIndex, index, indexDigest), Token);

        var digest = await client.RetagAsync(image.Repository, "multi", "multi-copy", Token);

        var copy = (await client.GetManifestAsync(image.Repository, "multi-copy", Token))!;
        Assert.Equal(indexDigest, digest);
        Assert.Equal(indexDigest, copy.Digest);
        Assert.Equal(RegistryClient.OciIndex, copy.MediaType);
        Assert.Equal(index, copy.Content);
        Assert.Equal(image.Repository, (await client.GetLabelsAsync(image.Repository, "multi-copy", Token))["org.opencontainers.image.title"]);
    }

    public void Dispose()
    {
        _app.Dispose();
        Directory.Delete(_logs, true);
    }
}
