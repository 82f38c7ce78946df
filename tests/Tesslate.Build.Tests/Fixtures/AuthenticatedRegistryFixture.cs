using System.Diagnostics;
using Xunit;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// A real distribution registry (<c>docker-registry</c>, Debian package) with htpasswd auth on 127.0.0.1, for login tests:
/// user AWS, password = moto's fixed ECR token password. Needs docker-registry and htpasswd (apache2-utils) on PATH.
/// </summary>
public sealed class AuthenticatedRegistryFixture : IAsyncLifetime
{
    public const string Username = "AWS";
    public const string Password = "123456789012-auth-token";

    private Process? _process;
    private DirectoryInfo? _directory;

    public string Registry { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("tesslate-registry-");
        var htpasswd = await RunAsync("htpasswd", "-Bbn", Username, Password);
        await File.WriteAllTextAsync(Path.Combine(_directory.FullName, "htpasswd"), htpasswd);
        var directory = _directory.FullName;
        var config = Path.Combine(directory, "config.yml");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        (_process, var port) = await ServerProcess.StartOnFreePortAsync(async port =>
        {
            await File.WriteAllTextAsync(config, $"""
                version: 0.1
                storage:
                  filesystem:
                    rootdirectory: {directory}/data
                http:
                  addr: 127.0.0.1:{port}
                auth:
                  htpasswd:
                    realm: tesslate-test
                    path: {directory}/htpasswd
                """);
            if (!File.Exists("/usr/bin/docker-registry"))
                throw new InvalidOperationException("docker-registry is not installed: apt-get install -y --no-install-recommends docker-registry apache2-utils");
            return ServerProcess.Start("/usr/bin/docker-registry", ["serve", config], Path.Combine(directory, "registry.log"));
        }, async port => (int)(await http.GetAsync($"http://127.0.0.1:{port}/v2/")).StatusCode == 401, TimeSpan.FromSeconds(30), "password-protected docker-registry");
        Registry = $"127.0.0.1:{port}";
    }

    private static async Task<string> RunAsync(string file, params string[] arguments)
    {
        Process process;
        try
        {
            process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, UseShellExecute = false })!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file} is not installed: apt-get install -y --no-install-recommends apache2-utils", e);
        }
        using (process)
        {
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            return output;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        }
        _process?.Dispose();
        _directory?.Delete(recursive: true);
    }
}
