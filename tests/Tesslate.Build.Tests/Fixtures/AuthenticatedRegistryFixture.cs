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

    private RegistryServer? _server;

    public string Registry => _server?.Address ?? "";

    public async ValueTask InitializeAsync() =>
        _server = await RegistryServer.StartAsync(RegistryAccess.Password, await RunAsync("htpasswd", "-Bbn", Username, Password));

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

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        return ValueTask.CompletedTask;
    }
}
