using Tesslate.Build.Engine.Processes;
using Xunit;

namespace Tesslate.Build.Engine.Tests;

public sealed class ProcessRunnerTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _temp = Directory.CreateTempSubdirectory("runner").FullName;
    private readonly LogCapture _log = new();

    public ProcessRunnerTests() => Secrets.BeginScope();

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private ProcessRunner Runner(bool dryRun = false) => new(_log.Logger, dryRun);

    private string Script(string name, string body) => ExecutableScript.Bash(_temp, name, body);

    [Fact]
    public async Task A_disallowed_exit_code_fails_with_the_command_and_its_last_lines()
    {
        var script = Script("fail.sh", "echo first; echo 'went wrong' >&2; exit 3");
        var error = await Assert.ThrowsAsync<ProcessFailedException>(() => Runner().RunAsync(new ToolCommand(script), CancellationToken.None));
        Assert.Equal(3, error.Result.ExitCode);
        Assert.Contains("exited with code 3", error.Problem);
        Assert.Contains("went wrong", error.Problem);
    }

    [Fact]
    public async Task Allowed_exit_codes_return_a_typed_result_with_captured_output()
    {
        var script = Script("two.sh", "echo changes; exit 2");
        var result = await Runner().RunAsync(new ToolCommand(script).WithAllowedExitCodes(0, 2).Capturing(), CancellationToken.None);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("changes", result.StandardOutput);
    }

    [Fact]
    public async Task Standard_input_reaches_the_child_and_never_the_log()
    {
        Secrets.Register("hunter2-password");
        var result = await Runner().RunAsync(new ToolCommand("cat").WithStandardInput("hunter2-password").Capturing(), CancellationToken.None);
        Assert.Equal("[REDACTED]", result.StandardOutput);
        Assert.DoesNotContain(_log.Lines, l => l.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Secrets_are_redacted_from_output_lines_and_the_printed_command()
    {
        Secrets.Register("tok-123456789");
        var command = new ToolCommand("echo", ["--token", "tok-123456789"]).Capturing();
        Assert.Equal("echo --token [REDACTED]", command.Display);
        var result = await Runner().RunAsync(command, CancellationToken.None);
        Assert.Equal("--token [REDACTED]", result.StandardOutput);
        Assert.All(_log.Lines, l => Assert.DoesNotContain("tok-123456789", l));
    }

    [Fact]
    public async Task Dry_run_prints_mutating_commands_and_runs_read_only_probes()
    {
        var marker = Path.Combine(_temp, "touched");
        var result = await Runner(dryRun: true).RunAsync(new ToolCommand("touch", [marker]), CancellationToken.None);
        Assert.True(result.WasDryRun);
        Assert.False(File.Exists(marker));
        Assert.Contains(_log.Lines, l => l.Contains("would run: touch", StringComparison.Ordinal));

        var probe = await Runner(dryRun: true).RunAsync(new ToolCommand("echo", ["probe"]).ReadOnly().Capturing(), CancellationToken.None);
        Assert.Equal("probe", probe.StandardOutput);
    }

    [Fact]
    public async Task A_missing_tool_is_a_missing_prerequisite_with_a_fix()
    {
        var error = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => Runner().RunAsync(new ToolCommand("no-such-tool-xyz"), CancellationToken.None));
        Assert.Contains("'no-such-tool-xyz' was not found on PATH", error.Problem);
        Assert.NotNull(error.Fix);
    }

    [Fact]
    public async Task Cancellation_interrupts_the_child_exactly_once_and_it_exits_gracefully()
    {
        var signals = Path.Combine(_temp, "signals");
        var ready = Path.Combine(_temp, "ready");
        var script = Script("graceful.sh", $"trap 'echo INT >> {signals}; exit 130' INT\ntouch {ready}\nwhile true; do sleep 0.05; done");
        using var cancel = new CancellationTokenSource();
        var run = Runner().RunAsync(new ToolCommand(script) { WaitForExitOnCancel = true }, cancel.Token);
        await WaitForFileAsync(ready);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Deadline));
        Assert.Equal(["INT"], File.ReadAllLines(signals));
    }

    [Fact]
    public async Task A_child_that_ignores_the_interrupt_is_killed_after_the_grace_period_with_its_tree()
    {
        var pidFile = Path.Combine(_temp, "grandchild.pid");
        var ready = Path.Combine(_temp, "ready");
        var script = Script("stubborn.sh", $"trap '' INT\nsleep 300 &\necho $! > {pidFile}\ntouch {ready}\nwait");
        using var cancel = new CancellationTokenSource();
        var run = Runner().RunAsync(new ToolCommand(script) { InterruptGracePeriod = TimeSpan.FromMilliseconds(300) }, cancel.Token);
        await WaitForFileAsync(ready);
        var grandchild = int.Parse(File.ReadAllText(pidFile).Trim());
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Deadline));
        await Waiting.UntilAsync(() => !IsAlive(grandchild), Deadline);
    }

    [Fact]
    public async Task A_timeout_stops_the_process_and_says_so()
    {
        var command = new ToolCommand("sleep", ["30"]) { Timeout = TimeSpan.FromMilliseconds(200), InterruptGracePeriod = TimeSpan.FromMilliseconds(200) };
        var error = await Assert.ThrowsAsync<BuildFailure>(() => Runner().RunAsync(command, CancellationToken.None).WaitAsync(Deadline));
        Assert.Contains("did not finish within 200 ms", error.Problem);
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited && File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2].Equals("Z", StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static Task WaitForFileAsync(string path) => Waiting.UntilAsync(() => File.Exists(path), Deadline);
}
