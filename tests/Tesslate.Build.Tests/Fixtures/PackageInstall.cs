using System.Diagnostics;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>Installs Debian packages a fixture needs when the machine lacks them (CI's .ci/run installs them up front).</summary>
internal static class PackageInstall
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task EnsureAsync(params string[] packages)
    {
        await Gate.WaitAsync();
        try
        {
            await RunAsync("apt-get", ["update", "-qq"]);
            await RunAsync("apt-get", ["install", "-y", "--no-install-recommends", .. packages]);
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task RunAsync(string file, string[] arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {await error}");
    }
}
