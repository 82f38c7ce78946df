using Tesslate.Build.Engine.Processes;
using Xunit;

namespace Tesslate.Build.Engine.Tests;

/// <summary>Tests that set process-wide environment variables: they run alone, never beside another test.</summary>
[CollectionDefinition("process environment", DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection;

/// <summary>Real child processes: interrupted through the whole host, in their own process group, with their environment (set process-wide: serialised).</summary>
[Collection("process environment")]
public sealed class ChildProcessTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _root = Directory.CreateTempSubdirectory("child").FullName;
    private readonly LogCapture _log = new();

    public ChildProcessTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, ".nuke"));
        Secrets.BeginScope();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Script(string name, string body) => ExecutableScript.Bash(_root, name, body);

    private sealed class ChildBuild : BuildBase
    {
        [Parameter("The script Work runs.")] private readonly string? Script;

        protected override string EnvironmentPrefix => "CHILD_";

        public Target Work => _ => _
            .PartialWorkOnInterrupt("the child may have left half a file")
            .Executes(async ct => await Runner.RunAsync(new ToolCommand(Script!), ct));

        public Target Later => _ => _.DependsOn(Work).Executes(() => { });
    }

    [Fact]
    public async Task An_interrupted_run_gives_the_child_one_interrupt_exits_130_and_says_what_may_be_partial()
    {
        var signals = Path.Combine(_root, "signals");
        var ready = Path.Combine(_root, "ready");
        var script = Script("work.sh", $"trap 'echo INT >> {signals}; exit 130' INT\ntouch {ready}\nwhile true; do sleep 0.05; done");
        using var interrupt = new CancellationTokenSource();
        var output = new StringWriter();

        var run = new ChildBuild().RunAsync(["Later", "--script", script, "--root", _root], new Dictionary<string, string>(), output, interrupt.Token);
        await Waiting.UntilAsync(() => File.Exists(ready), Deadline);
        await interrupt.CancelAsync();
        var exitCode = await run.WaitAsync(Deadline);

        Assert.Equal(130, exitCode);
        Assert.Equal(["INT"], File.ReadAllLines(signals));
        var text = output.ToString();
        Assert.Contains("Work was interrupted: the child may have left half a file", text);
        Assert.Contains("Build interrupted. Targets marked Aborted may have left partial work", text);
        Assert.Matches(@"Later\s+NotRun\s+Work was interrupted", text);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_child_leads_a_process_group_of_its_own_unless_that_is_turned_off(bool ownProcessGroups)
    {
        var command = new ToolCommand("bash", ["-c", "echo $$ $(ps -o pgid= -p $$)"]).Capturing();
        var result = await new ProcessRunner(_log.Logger, ownProcessGroups: ownProcessGroups).RunAsync(command, CancellationToken.None);

        var words = result.StandardOutput.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var (pid, group) = (int.Parse(words[0]), int.Parse(words[1]));
        var ourGroup = int.Parse(File.ReadAllText("/proc/self/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);
        Assert.Equal(ownProcessGroups ? pid : ourGroup, group);
        Assert.NotEqual(ownProcessGroups, group == ourGroup);
    }

    [Fact]
    public async Task Environment_variables_reach_the_child_and_a_null_value_removes_an_inherited_one()
    {
        const string inherited = "TESSLATE_BUILD_TESTS_INHERITED";
        System.Environment.SetEnvironmentVariable(inherited, "from-the-parent");
        var command = new ToolCommand("bash", ["-c", $"echo \"added=$ADDED inherited=${{{inherited}-unset}}\""]).WithEnvironment("ADDED", "a value").Capturing();
        var runner = new ProcessRunner(_log.Logger);

        Assert.Equal("added=a value inherited=from-the-parent", (await runner.RunAsync(command, CancellationToken.None)).StandardOutput);
        Assert.Equal("added=a value inherited=unset", (await runner.RunAsync(command.WithEnvironment(inherited, null), CancellationToken.None)).StandardOutput);
    }
}
