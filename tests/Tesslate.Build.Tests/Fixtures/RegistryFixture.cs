using System.Diagnostics;
using System.Net;
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

    private RegistryServer? _own;

    /// <summary><c>127.0.0.1:PORT</c>, as written in image names.</summary>
    public string Address { get; private set; } = "";

    public static string NewNamespace() => "t" + Guid.NewGuid().ToString("N")[..10];

    public async ValueTask InitializeAsync()
    {
        if (MayShare && Environment.GetEnvironmentVariable("TESSLATE_TEST_REGISTRY") is { Length: > 0 } given)
        {
            Address = given;
            using var http = new HttpClient();
            await ServerProcess.WaitUntilAsync(async () => (await http.GetAsync($"http://{Address}/v2/")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), $"registry at {Address}");
            return;
        }
        _own = await RegistryServer.StartAsync(RegistryAccess.ReadWrite);
        Address = _own.Address;
    }

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        _own?.Dispose();
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

/// <summary>What a registry of the tests' own lets in.</summary>
public enum RegistryAccess
{
    /// <summary>Pulls, pushes and deletes.</summary>
    ReadWrite,

    /// <summary>Maintenance mode: it answers reads and refuses every push (for push-refusal tests).</summary>
    ReadOnly,

    /// <summary>htpasswd auth, as ECR answers: a Basic challenge on every request without the password.</summary>
    Password,
}

/// <summary>
/// One real registry (distribution, Debian's docker-registry) on a free 127.0.0.1 port with a temp storage folder,
/// stopped by PID and deleted on dispose: the one place the tests write a registry configuration.
/// </summary>
public sealed class RegistryServer : IDisposable
{
    private const string Executable = "/usr/bin/docker-registry";

    private readonly Process _process;
    private readonly string _directory;

    private RegistryServer(Process process, string directory, string address)
    {
        _process = process;
        _directory = directory;
        Address = address;
    }

    /// <summary><c>127.0.0.1:PORT</c>, as written in image names.</summary>
    public string Address { get; }

    /// <param name="htpasswd">With <see cref="RegistryAccess.Password"/>: the htpasswd file's content.</param>
    public static async Task<RegistryServer> StartAsync(RegistryAccess access, string? htpasswd = null)
    {
        if (!File.Exists(Executable))
            await PackageInstall.EnsureAsync("docker-registry");
        var directory = Directory.CreateTempSubdirectory("tesslate-registry-").FullName;
        var config = Path.Combine(directory, "config.yml");
        var section = access switch
        {
            RegistryAccess.ReadWrite => """
                  delete:
                    enabled: true
                """,
            RegistryAccess.ReadOnly => """
                  maintenance:
                    readonly:
                      enabled: true
                """,
            RegistryAccess.Password => "",
            _ => throw new ArgumentOutOfRangeException(nameof(access), access, null),
        };
        if (access == RegistryAccess.Password)
            await File.WriteAllTextAsync(Path.Combine(directory, "htpasswd"), htpasswd ?? throw new ArgumentNullException(nameof(htpasswd), "a password-protected registry needs an htpasswd file"));
        var auth = access == RegistryAccess.Password ? $"""
            auth:
              htpasswd:
                realm: tesslate-test
                path: {directory}/htpasswd
            """ : "";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        // Ours answers /v2/ once it listens: 200, or 401 when it asks for the password.
        var answer = access == RegistryAccess.Password ? HttpStatusCode.Unauthorized : HttpStatusCode.OK;
        var (process, port) = await ServerProcess.StartOnFreePortAsync(async port =>
        {
            await File.WriteAllTextAsync(config, $"""
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: {directory}/data
                {section}
                http:
                  addr: 127.0.0.1:{port}
                {auth}
                """);
            return ServerProcess.Start(Executable, ["serve", config], Path.Combine(directory, "registry.log"));
        }, async port => (await http.GetAsync($"http://127.0.0.1:{port}/v2/")).StatusCode == answer, TimeSpan.FromSeconds(30), $"docker-registry ({access})");
        return new RegistryServer(process, directory, $"127.0.0.1:{port}");
    }

    public void Dispose()
    {
        ServerProcess.Stop(_process);
        _process.Dispose();
        Directory.Delete(_directory, true);
    }
}
