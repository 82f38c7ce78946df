using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>What a test's exec handler sees and does: the command, output channels and a way to break the transport.</summary>
public sealed class ExecSession
{
    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly TaskCompletionSource<string> _stdin = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _stdinText = new();

    internal ExecSession(WebSocket socket, string @namespace, string pod, string container, IReadOnlyList<string> command, string protocol)
    {
        _socket = socket;
        Namespace = @namespace;
        Pod = pod;
        Container = container;
        Command = command;
        Protocol = protocol;
    }

    public string Namespace { get; }
    public string Pod { get; }
    public string Container { get; }
    public IReadOnlyList<string> Command { get; }

    /// <summary>The negotiated subprotocol, v5.channel.k8s.io or v4.channel.k8s.io.</summary>
    public string Protocol { get; }

    internal bool Dropped { get; private set; }

    public Task StdoutAsync(string text, CancellationToken ct = default) => SendAsync(1, text, ct);

    public Task StderrAsync(string text, CancellationToken ct = default) => SendAsync(2, text, ct);

    /// <summary>Everything the client wrote to stdin, once it closed stdin (v5) or the connection ended.</summary>
    public Task<string> StdinAsync(CancellationToken ct = default) => _stdin.Task.WaitAsync(ct);

    /// <summary>Ends the handler by cutting the connection without a status frame, like a dropped network path.</summary>
    public Exception DropTransport()
    {
        Dropped = true;
        return new ExecTransportDropped();
    }

    internal async Task SendAsync(byte channel, string text, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var frame = new byte[bytes.Length + 1];
        frame[0] = channel;
        bytes.CopyTo(frame, 1);
        await _send.WaitAsync(ct);
        try
        {
            await _socket.SendAsync(frame, WebSocketMessageType.Binary, true, ct);
        }
        finally
        {
            _send.Release();
        }
    }

    internal async Task ReceiveLoopAsync(CancellationTokenSource clientGone)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (result.Count >= 2 && buffer[0] == 255 && buffer[1] == 0)
                {
                    _stdin.TrySetResult(_stdinText.ToString());
                }
                else if (result.Count >= 1 && buffer[0] == 0)
                {
                    _stdinText.Append(Encoding.UTF8.GetString(buffer, 1, result.Count - 1));
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away; the handler's token tells it.
        }

        _stdin.TrySetResult(_stdinText.ToString());
        await clientGone.CancelAsync();
    }

    private sealed class ExecTransportDropped : Exception;
}

/// <summary>Runs one command in the fake container; returns the exit code.</summary>
public delegate Task<int> ExecHandler(ExecSession session, CancellationToken ct);

public sealed record ExecInvocation(string Namespace, string Pod, string Container, IReadOnlyList<string> Command, string Protocol);

/// <summary>
/// pods/exec over WebSocket (v5.channel.k8s.io or v4.channel.k8s.io): channel 1 stdout, 2 stderr, 3 a metav1.Status
/// (Success, or Failure/NonZeroExitCode with an ExitCode cause). Tests register a handler per command line.
/// </summary>
public sealed class FakeExec
{
    private static readonly string[] Protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
    private readonly Lock _gate = new();
    private readonly List<(Func<IReadOnlyList<string>, bool> Match, ExecHandler Handler)> _handlers = [];
    private readonly List<ExecInvocation> _invocations = [];

    public IReadOnlyList<ExecInvocation> Invocations
    {
        get
        {
            lock (_gate)
            {
                return [.. _invocations];
            }
        }
    }

    /// <summary>Handle a command given as its words joined by single spaces, e.g. "python -m scripts.seed_apps".</summary>
    public void Handle(string commandLine, ExecHandler handler) => Handle(c => string.Join(' ', c) == commandLine, handler);

    public void Handle(Func<IReadOnlyList<string>, bool> match, ExecHandler handler)
    {
        lock (_gate)
        {
            _handlers.Insert(0, (match, handler));
        }
    }

    /// <summary>A command that prints lines on stdout and exits with the code given.</summary>
    public void Respond(string commandLine, int exitCode, params string[] stdoutLines) =>
        Handle(commandLine, async (session, ct) =>
        {
            foreach (var line in stdoutLines)
            {
                await session.StdoutAsync(line + "\n", ct);
            }

            return exitCode;
        });

    public void Clear()
    {
        lock (_gate)
        {
            _handlers.Clear();
            _invocations.Clear();
        }
    }

    internal async Task RunAsync(HttpContext ctx, string ns, string pod, string container, IReadOnlyList<string> command)
    {
        var protocol = Protocols.FirstOrDefault(p => ctx.WebSockets.WebSocketRequestedProtocols.Contains(p));
        if (protocol is null)
        {
            throw new KubeApiException(400, "BadRequest", "exec needs a WebSocket with subprotocol v5.channel.k8s.io or v4.channel.k8s.io");
        }

        ExecHandler? handler;
        lock (_gate)
        {
            _invocations.Add(new ExecInvocation(ns, pod, container, command, protocol));
            handler = _handlers.FirstOrDefault(h => h.Match(command)).Handler;
        }

        using var socket = await ctx.WebSockets.AcceptWebSocketAsync(protocol);
        using var clientGone = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        var session = new ExecSession(socket, ns, pod, container, command, protocol);
        var receiving = session.ReceiveLoopAsync(clientGone);
        int exitCode;
        try
        {
            exitCode = handler is null
                ? await NoSuchCommand(session, clientGone.Token)
                : await handler(session, clientGone.Token);
        }
        catch (Exception) when (session.Dropped)
        {
            ctx.Abort();
            return;
        }
        catch (OperationCanceledException)
        {
            ctx.Abort();
            return;
        }

        var status = exitCode == 0
            ? new JsonObject { ["metadata"] = new JsonObject(), ["status"] = "Success" }
            : new JsonObject
            {
                ["metadata"] = new JsonObject(),
                ["status"] = "Failure",
                ["message"] = $"command terminated with non-zero exit code: error executing command [{string.Join(' ', command)}], exit code {exitCode}",
                ["reason"] = "NonZeroExitCode",
                ["details"] = new JsonObject
                {
                    ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
                },
            };
        try
        {
            await session.SendAsync(3, KubeJson.Serialize(status), clientGone.Token);
            // The client's demuxer never answers a close frame, so send ours and end the connection.
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", clientGone.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            ctx.Abort();
        }

        await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(1)));
    }

    private static async Task<int> NoSuchCommand(ExecSession session, CancellationToken ct)
    {
        await session.StderrAsync($"OCI runtime exec failed: exec failed: unable to start container process: exec: \"{session.Command[0]}\": executable file not found in $PATH: unknown\n", ct);
        return 127;
    }
}
