using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>Small helpers for fixtures that start a server: a free loopback port, a polled wait with a deadline, a stop by PID.</summary>
internal static class ServerProcess
{
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static Process Start(string fileName, IEnumerable<string> arguments, string logFile)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var log = new StreamWriter(logFile) { AutoFlush = true };
        var gate = new Lock();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (gate) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (gate) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> ready, TimeSpan deadline, string what, Func<string>? diagnostics = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < deadline)
        {
            try
            {
                if (await ready())
                    return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or SocketException or InvalidOperationException)
            {
                // not up yet
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{what} did not become ready within {deadline.TotalSeconds:0} s. {diagnostics?.Invoke()}");
    }

    public static void Stop(Process? process)
    {
        if (process is null || process.HasExited)
            return;
        try
        {
            process.Kill(entireProcessTree: false);
            process.WaitForExit(15_000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public static void StopGracefully(Process? process, TimeSpan wait)
    {
        if (process is null || process.HasExited)
            return;
        // SIGTERM lets dockerd unmount and stop its containerd.
        using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill?.WaitForExit(5_000);
        if (!process.WaitForExit((int)wait.TotalMilliseconds))
            Stop(process);
    }
}
