using System.Collections.Concurrent;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Registry;
using Tesslate.Build.Testing;
using Tesslate.Build.Tests.Fixtures;
using Tesslate.Build.Tests.Infrastructure;
using Xunit;

namespace Tesslate.Build.Tests.Platform;

/// <summary>
/// The cluster stage on its own, without Build: made from the beta settings and a few functions, rendering the
/// repository's real overlays with kubectl kustomize.
/// </summary>
public sealed class ClusterStageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static EnvironmentSettings Beta => StageTestBed.Beta;

    private static string Digest(int i) => "sha256:" + i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture).PadLeft(64, '0');

    /// <summary>Counts the commands run, so a test can see each overlay rendered once.</summary>
    private sealed class CountingRunner(IProcessRunner inner) : IProcessRunner
    {
        public ConcurrentQueue<ToolCommand> Commands { get; } = new();

        public bool DryRun => inner.DryRun;

        public Task<ProcessResult> RunAsync(ToolCommand command, CancellationToken cancellationToken)
        {
            Commands.Enqueue(command);
            return inner.RunAsync(command, cancellationToken);
        }
    }

    private static (ClusterStage Stage, CountingRunner Runner, LogCapture Log) Stage(BuildReport report)
    {
        var log = new LogCapture();
        var runner = new CountingRunner(new ProcessRunner(log.Logger));
        var stage = StageTestBed.Cluster(new StageContext(log.Logger, new RunReport(), DryRun: false), runner,
            _ => throw new InvalidOperationException("no cluster in this test"), report);
        return (stage, runner, log);
    }

    private static BuildReport ReportOfEveryCatalogImage()
    {
        var catalog = ImageCatalog.Load(InfrastructureLayout.Full("images"));
        return new BuildReport
        {
            Images = [.. catalog.Images.Select((image, i) => new ImageReport
            {
                Name = image.Name,
                Registry = Beta.Registry!,
                Repository = image.Repository,
                Digest = Digest(i + 1),
                Outcome = ImageOutcome.Built,
            })],
        };
    }

    [Fact]
    public async Task Both_beta_overlays_get_one_set_of_pins_from_the_build_so_the_precache_pulls_the_devserver_the_backend_starts()
    {
        var report = ReportOfEveryCatalogImage();
        var (stage, _, _) = Stage(report);

        var states = await stage.DesiredStatesAsync(stage.ReleaseOverlays, cluster: null, PinPurpose.Apply, Ct);

        Assert.Equal(2, states.Count);
        Assert.Same(states[0].Pins, states[1].Pins);
        var devserver = report["devserver"]!.PinnedReference!;
        var runtimeImages = states[0].Objects.Single(o => o.Ref.Matches(ClusterStage.RuntimeImages));
        Assert.Contains(devserver, runtimeImages.Body["data"]!.ToJsonString(), StringComparison.Ordinal);
        var precache = WorkloadImages.FromManifests(states[1].Objects).Where(u => u.Workload.Name == "tesslate-image-precache").ToList();
        Assert.NotEmpty(precache);
        Assert.All(precache.Where(u => u.Image.Repository.EndsWith("/tesslate-devserver", StringComparison.Ordinal)), u => Assert.Equal(devserver, u.Image.ToString()));
        Assert.Contains(precache, u => u.Image.Repository.EndsWith("/tesslate-devserver", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Each_overlay_is_rendered_once_per_run_however_many_targets_ask()
    {
        var (stage, runner, _) = Stage(ReportOfEveryCatalogImage());

        await stage.DesiredStatesAsync(stage.ReleaseOverlays, cluster: null, PinPurpose.Preview, Ct);
        await stage.DesiredStatesAsync([stage.MainOverlay], cluster: null, PinPurpose.Apply, Ct);
        var workloads = await stage.RenderedWorkloadsAsync(Ct);

        Assert.Contains(workloads, w => w.Matches(PlatformWorkloads.Backend));
        Assert.Contains(workloads, w => w.Matches(PlatformWorkloads.CsiNode));
        var renders = runner.Commands.Where(c => c.Arguments.FirstOrDefault() == "kustomize").Select(c => c.Arguments[1]).ToList();
        Assert.Equal(2, renders.Count);
        Assert.Equal(renders.Distinct().Count(), renders.Count);
    }
}
