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
        var port = MotoServer.FreePort();
        Registry = $"127.0.0.1:{port}";
        var config = Path.Combine(_directory.FullName, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            storage:
              filesystem:
                rootdirectory: {_directory.FullName}/data
            http:
              addr: {Registry}
            auth:
              htpasswd:
                realm: tesslate-test
                path: {_directory.FullName}/htpasswd
            """);
        var start = new ProcessStartInfo("docker-registry", ["serve", config]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        try
        {
            _process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("docker-registry is not installed: apt-get install -y --no-install-recommends docker-registry apache2-utils", e);
        }
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync($"http://{Registry}/v2/");
                if ((int)response.StatusCode == 401)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"docker-registry did not start on {Registry}.");
            await Task.Delay(100);
        }
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
