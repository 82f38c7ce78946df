using System.Diagnostics;
using Xunit;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// A real OCI registry (distribution, Debian's docker-registry) for the whole test run: TESSLATE_TEST_REGISTRY when CI
/// started one, otherwise one on 127.0.0.1 with a free port and a temp storage dir, stopped by PID at the end.
/// Tests keep apart by using their own repository prefix (<see cref="NewNamespace"/>).
/// </summary>
public class RegistryFixture : IAsyncLifetime
{
    /// <summary>Whether TESSLATE_TEST_REGISTRY (the run's shared registry) may be used instead of starting one.</summary>
    protected virtual bool MayShare => true;

    private Process? _registry;
    private string? _directory;

    /// <summary><c>127.0.0.1:PORT</c>, as written in image names.</summary>
    public string Address { get; private set; } = "";

    public static string NewNamespace() => "t" + Guid.NewGuid().ToString("N")[..10];

    public async ValueTask InitializeAsync()
    {
        if (MayShare && Environment.GetEnvironmentVariable("TESSLATE_TEST_REGISTRY") is { Length: > 0 } given)
            Address = given;
        else
        {
            if (!File.Exists("/usr/bin/docker-registry"))
                await PackageInstall.EnsureAsync("docker-registry");
            var directory = _directory = Directory.CreateTempSubdirectory("tesslate-registry-").FullName;
            var config = Path.Combine(directory, "config.yml");
            using var probe = new HttpClient();
            (_registry, var port) = await ServerProcess.StartOnFreePortAsync(async port =>
            {
                await File.WriteAllTextAsync(config, $"""
                    version: 0.1
                    log:
                      level: warn
                    storage:
                      filesystem:
                        rootdirectory: {directory}/data
                      delete:
                        enabled: true
                    http:
                      addr: 127.0.0.1:{port}
                    """);
                return ServerProcess.Start("/usr/bin/docker-registry", ["serve", config], Path.Combine(directory, "registry.log"));
            }, async port => (await probe.GetAsync($"http://127.0.0.1:{port}/v2/")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "docker-registry");
            Address = $"127.0.0.1:{port}";
            return;
        }
        using var http = new HttpClient();
        await ServerProcess.WaitUntilAsync(async () => (await http.GetAsync($"http://{Address}/v2/")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), $"registry at {Address}");
    }

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        ServerProcess.Stop(_registry);
        _registry?.Dispose();
        if (_directory is not null)
            Directory.Delete(_directory, true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A registry of the test class's own: for tests that assert what a registry does *not* hold (an image never pushed,
/// so no tag to pin), which pushes of other tests to the shared registry would change.
/// </summary>
public sealed class PrivateRegistryFixture : RegistryFixture
{
    protected override bool MayShare => false;
}
