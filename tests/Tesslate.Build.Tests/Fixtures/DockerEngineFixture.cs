using System.Diagnostics;
using Xunit;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// A real Docker engine for the whole test run: TESSLATE_TEST_DOCKER_HOST when CI started one, otherwise a private
/// dockerd on a unix socket in a temp dir (no bridge, no iptables, so it coexists with other engines), stopped by PID at the end.
/// The client is Debian's /usr/bin/docker 20.10 (TESSLATE_TEST_DOCKER_EXE overrides): a newer CLI without buildx fails with BuildKit.
/// </summary>
public sealed class DockerEngineFixture : IAsyncLifetime
{
    private Process? _dockerd;
    private string? _directory;

    public string Host { get; private set; } = "";

    public string DockerExecutable { get; } = Environment.GetEnvironmentVariable("TESSLATE_TEST_DOCKER_EXE") is { Length: > 0 } exe ? exe
        : File.Exists("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

    public async ValueTask InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("TESSLATE_TEST_DOCKER_HOST") is { Length: > 0 } given)
        {
            Host = given;
            await WaitForEngineAsync(TimeSpan.FromSeconds(30));
            return;
        }
        if (!File.Exists("/usr/sbin/dockerd"))
            await PackageInstall.EnsureAsync("docker.io", "docker-registry");
        _directory = Path.Combine(Path.GetTempPath(), $"tesslate-docker-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(_directory);
        Host = $"unix://{_directory}/docker.sock";
        _dockerd = ServerProcess.Start("/usr/sbin/dockerd",
            ["--host", Host, "--pidfile", $"{_directory}/dockerd.pid", "--data-root", $"{_directory}/data", "--exec-root", $"{_directory}/exec",
             "--bridge=none", "--iptables=false"],
            Path.Combine(_directory, "dockerd.log"));
        await WaitForEngineAsync(TimeSpan.FromSeconds(60));
    }

    private async Task WaitForEngineAsync(TimeSpan deadline) =>
        await ServerProcess.WaitUntilAsync(async () =>
        {
            using var info = Process.Start(new ProcessStartInfo(DockerExecutable, ["-H", Host, "info", "--format", "{{.ServerVersion}}"])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
            await info.WaitForExitAsync();
            return info.ExitCode == 0;
        }, deadline, $"dockerd at {Host}", () => _directory is null ? "" : File.ReadAllText(Path.Combine(_directory, "dockerd.log")).Split('\n').TakeLast(10).Aggregate("", (a, l) => a + "\n" + l));

    /// <summary>Runs the docker CLI against this engine (for test setup and assertions).</summary>
    public async Task<string> DockerAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo(DockerExecutable) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-H");
        info.ArgumentList.Add(Host);
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"docker {string.Join(' ', arguments)} failed: {await error}");
        return await output;
    }

    /// <summary>A base image with busybox (from Debian's busybox-static), built once, so RUN works without pulling anything.</summary>
    public async Task<string> BusyboxBaseAsync()
    {
        const string reference = "tesslate-test/busybox:1";
        await _busyboxGate.WaitAsync();
        try
        {
            if (_busyboxBuilt)
                return reference;
            if (!File.Exists("/bin/busybox"))
                await PackageInstall.EnsureAsync("busybox-static");
            var directory = Directory.CreateTempSubdirectory("tesslate-busybox-").FullName;
            File.Copy("/bin/busybox", Path.Combine(directory, "busybox"));
            await File.WriteAllTextAsync(Path.Combine(directory, "Dockerfile"),
                "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n");
            await DockerAsync("build", "--tag", reference, directory);
            Directory.Delete(directory, true);
            _busyboxBuilt = true;
            return reference;
        }
        finally
        {
            _busyboxGate.Release();
        }
    }

    private readonly SemaphoreSlim _busyboxGate = new(1, 1);
    private bool _busyboxBuilt;

    public ValueTask DisposeAsync()
    {
        ServerProcess.StopGracefully(_dockerd, TimeSpan.FromSeconds(20));
        _dockerd?.Dispose();
        if (_directory is not null)
        {
            try
            {
                Directory.Delete(_directory, true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // overlay mounts may linger a moment; the temp dir is harmless
            }
        }
        _busyboxGate.Dispose();
        return ValueTask.CompletedTask;
    }
}
