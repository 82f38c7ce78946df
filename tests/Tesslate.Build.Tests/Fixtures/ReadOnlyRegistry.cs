using System.Diagnostics;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>A real registry in read-only maintenance mode: it answers reads and refuses every push (for push-refusal tests).</summary>
public sealed class ReadOnlyRegistry : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private ReadOnlyRegistry(Process process, string directory, string address)
    {
        _process = process;
        _directory = directory;
        Address = address;
    }

    public string Address { get; }

    public static async Task<ReadOnlyRegistry> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("tesslate-registry-ro-").FullName;
        var config = Path.Combine(directory, "config.yml");
        using var http = new HttpClient();
        var (process, port) = await ServerProcess.StartOnFreePortAsync(async port =>
        {
            await File.WriteAllTextAsync(config, $"""
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: {directory}/data
                  maintenance:
                    readonly:
                      enabled: true
                http:
                  addr: 127.0.0.1:{port}
                """);
            return ServerProcess.Start("/usr/bin/docker-registry", ["serve", config], Path.Combine(directory, "registry.log"));
        }, async port => (await http.GetAsync($"http://127.0.0.1:{port}/v2/")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "read-only registry");
        return new ReadOnlyRegistry(process, directory, $"127.0.0.1:{port}");
    }

    public void Dispose()
    {
        ServerProcess.Stop(_process);
        _process.Dispose();
        Directory.Delete(_directory, true);
    }
}
