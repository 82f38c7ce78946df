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

    /// <summary>
    /// Starts a server on a loopback port picked free, and starts it again on another port when it exits before
    /// answering: another process took the port between the pick and the server's bind (docker-registry and moto_server
    /// cannot bind port 0 and say which port they got). A server that answers while ours has exited is someone else's.
    /// </summary>
    /// <param name="start">Starts the server on the port (writing its configuration first).</param>
    /// <param name="ready">Whether the server on the port answers as ours would.</param>
    public static async Task<(Process Process, int Port)> StartOnFreePortAsync(Func<int, Task<Process>> start, Func<int, Task<bool>> ready,
        TimeSpan deadline, string what, int attempts = 3)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreePort();
            var process = await start(port);
            var stopwatch = Stopwatch.StartNew();
            while (!process.HasExited)
            {
                try
                {
                    if (await ready(port) && !process.HasExited)
                        return (process, port);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or SocketException or TaskCanceledException)
                {
                    // not up yet
                }
                if (stopwatch.Elapsed > deadline)
                {
                    Stop(process);
                    throw new TimeoutException($"{what} did not answer on 127.0.0.1:{port} within {deadline.TotalSeconds:0} s.");
                }
                await Task.Delay(100);
            }
            var code = process.ExitCode;
            process.Dispose();
            if (attempt == attempts)
                throw new InvalidOperationException($"{what} exited (code {code}) before answering, on {attempts} ports in a row (the last 127.0.0.1:{port}): see its log.");
        }
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
