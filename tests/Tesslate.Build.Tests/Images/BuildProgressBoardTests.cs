using Spectre.Console;
using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed class BuildProgressBoardTests
{
    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;

        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    private static ImageProgress Event(string image, ImagePhase phase, string? detail = null, double seconds = 0) =>
        new(image, phase, detail, TimeSpan.FromSeconds(seconds));

    [Fact]
    public void Rows_keep_the_order_images_were_added_and_start_queued()
    {
        var board = new BuildProgressBoard(new ManualClock());
        board.Add("backend");
        board.Add("frontend");
        board.Apply(Event("frontend", ImagePhase.Probing, "fingerprint"));

        var rows = board.Rows();
        Assert.Equal(["backend", "frontend"], rows.Select(r => r.Image));
        Assert.Equal(["queued", "probing"], rows.Select(r => r.State));
        Assert.Equal("fingerprint", rows[1].Detail);
    }

    [Theory]
    [InlineData("Step 3/7 : RUN pip install -r requirements.txt", "step 3/7: RUN pip install -r requirements.txt")]
    [InlineData("#8 [2/4] COPY . /app", "step 2/4: COPY . /app")]
    [InlineData("#12 [builder 5/9] RUN npm ci", "step 5/9: RUN npm ci")]
    public void Building_rows_show_the_step_of_either_builder(string line, string expected)
    {
        var board = new BuildProgressBoard(new ManualClock());
        board.Apply(Event("ast", ImagePhase.Building));
        board.Apply(Event("ast", ImagePhase.Building, line));
        board.Apply(Event("ast", ImagePhase.Building, " ---> Running in 1234abcd"));

        Assert.Equal(expected, board.Rows()[0].Detail);
    }

    [Fact]
    public void Without_a_step_the_last_output_line_shows_truncated()
    {
        var board = new BuildProgressBoard(new ManualClock(), detailWidth: 10);
        board.Apply(Event("ast", ImagePhase.Building, "Sending build context to Docker daemon"));
        board.Apply(Event("ast", ImagePhase.Building, "   "));

        Assert.Equal("Sending b…", board.Rows()[0].Detail);
    }

    [Fact]
    public void A_new_phase_drops_the_previous_step()
    {
        var board = new BuildProgressBoard(new ManualClock());
        board.Apply(Event("ast", ImagePhase.Building, "Step 7/7 : CMD [\"run\"]"));
        board.Apply(Event("ast", ImagePhase.Pushing));
        board.Apply(Event("ast", ImagePhase.Pushing, "5f70bf18a086: Pushed"));

        var row = board.Rows()[0];
        Assert.Equal(ImagePhase.Pushing, row.Phase);
        Assert.Equal("5f70bf18a086: Pushed", row.Detail);
    }

    [Fact]
    public void Running_rows_keep_counting_and_finished_rows_stop()
    {
        var clock = new ManualClock();
        var board = new BuildProgressBoard(clock);
        board.Apply(Event("backend", ImagePhase.Building, seconds: 2));
        board.Apply(Event("ast", ImagePhase.Reused, "sha256:abc", seconds: 1));
        board.Add("frontend");
        clock.Advance(TimeSpan.FromSeconds(5));

        var rows = board.Rows().ToDictionary(r => r.Image);
        Assert.Equal(TimeSpan.FromSeconds(7), rows["backend"].Elapsed);
        Assert.Equal(TimeSpan.FromSeconds(1), rows["ast"].Elapsed);
        Assert.True(rows["ast"].IsFinished);
        Assert.Equal("sha256:abc", rows["ast"].Detail);
        Assert.Equal(TimeSpan.Zero, rows["frontend"].Elapsed);
    }

    [Fact]
    public void The_view_renders_one_row_per_image_with_state_elapsed_and_detail()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 120;
        var view = new LiveBuildView(console, new ManualClock());
        view.Board.Add("backend");
        view.Report(Event("backend", ImagePhase.Failed, "exceeded its timeout of 3.0 s", seconds: 3));
        view.Report(Event("ast", ImagePhase.Built, "sha256:feed", seconds: 12));

        console.Write(view.Render());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^backend\s+failed\s+3\.0 s\s+exceeded its timeout of 3\.0 s$", lines[0]);
        Assert.Matches(@"^ast\s+built\s+12\.0 s\s+sha256:feed$", lines[1]);
    }

    [Theory]
    [InlineData(true, Verbosity.Normal, null, true)]
    [InlineData(false, Verbosity.Normal, null, false)]
    [InlineData(true, Verbosity.Verbose, null, false)]
    [InlineData(true, Verbosity.Normal, "CI=true", false)]
    [InlineData(true, Verbosity.Normal, "GITHUB_ACTIONS=true", false)]
    [InlineData(true, Verbosity.Normal, "NO_COLOR=1", false)]
    [InlineData(true, Verbosity.Normal, "TERM=dumb", false)]
    public void The_live_view_is_wanted_only_on_an_interactive_plain_run(bool interactive, Verbosity verbosity, string? variable, bool expected)
    {
        var environment = variable is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [variable.Split('=')[0]] = variable.Split('=')[1] };
        // Under the test runner stdout may be redirected, which alone turns the view off.
        Assert.Equal(expected && !Console.IsOutputRedirected, LiveBuildView.IsWanted(interactive, verbosity, environment));
    }
}
