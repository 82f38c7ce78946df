using Tesslate.Build.Engine.Workflows;
using Xunit;
using static Tesslate.Build.Engine.Tests.Workflows.SampleWorkflows;

namespace Tesslate.Build.Engine.Tests.Workflows;

public sealed class WorkflowFilesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("workflows-").FullName;
    private readonly WorkflowFiles _files = new(Header);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Files_written_from_the_declarations_show_no_drift()
    {
        var written = await _files.WriteAsync(_directory, [Release(), Minimal()], Ct);
        Assert.Equal(2, written.Count);
        Assert.Empty(await _files.CheckAsync(_directory, [Release(), Minimal()], Ct));
        Assert.Empty(await _files.WriteAsync(_directory, [Release(), Minimal()], Ct));
    }

    [Fact]
    public async Task A_missing_file_is_named()
    {
        await _files.WriteAsync(_directory, [Minimal()], Ct);
        var drift = Assert.Single(await _files.CheckAsync(_directory, [Release(), Minimal()], Ct));
        Assert.Equal(("release.yml", DriftStatus.Missing), (drift.FileName, drift.Status));
        Assert.StartsWith("--- /dev/null\n", drift.Diff);
    }

    [Fact]
    public async Task An_edited_file_shows_a_unified_diff_of_the_edit()
    {
        await _files.WriteAsync(_directory, [Release()], Ct);
        var path = Path.Combine(_directory, "release.yml");
        await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path, Ct)).Replace("timeout-minutes: 45", "timeout-minutes: 90", StringComparison.Ordinal), Ct);

        var drift = Assert.Single(await _files.CheckAsync(_directory, [Release()], Ct));
        Assert.Equal(DriftStatus.Different, drift.Status);
        Assert.Contains("\n-    timeout-minutes: 90\n+    timeout-minutes: 45\n", drift.Diff);
        Assert.Contains("@@ -", drift.Diff);
    }

    [Fact]
    public async Task Windows_line_endings_are_not_drift()
    {
        await _files.WriteAsync(_directory, [Minimal()], Ct);
        var path = Path.Combine(_directory, "minimal.yml");
        await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path, Ct)).Replace("\n", "\r\n", StringComparison.Ordinal), Ct);
        Assert.Empty(await _files.CheckAsync(_directory, [Minimal()], Ct));
    }

    [Fact]
    public async Task A_generated_file_no_longer_declared_is_orphaned_and_hand_written_files_are_left_alone()
    {
        await _files.WriteAsync(_directory, [Release(), Minimal()], Ct);
        await File.WriteAllTextAsync(Path.Combine(_directory, "hand.yml"), "name: hand\n", Ct);
        var drift = Assert.Single(await _files.CheckAsync(_directory, [Minimal()], Ct));
        Assert.Equal(("release.yml", DriftStatus.Orphaned), (drift.FileName, drift.Status));
    }

    [Fact]
    public async Task The_check_mode_fails_naming_each_file_and_the_command_to_run()
    {
        await _files.WriteAsync(_directory, [Minimal()], Ct);
        var logger = new Serilog.LoggerConfiguration().CreateLogger();
        var failure = await Assert.ThrowsAsync<BuildFailure>(() => _files.EnsureUpToDateAsync(_directory, [Release(), Minimal()], "./build.sh GenerateWorkflows", logger, Ct));
        Assert.Contains("release.yml (missing)", failure.Problem);
        Assert.Contains("./build.sh GenerateWorkflows", failure.Fix);
        await _files.WriteAsync(_directory, [Release(), Minimal()], Ct);
        await _files.EnsureUpToDateAsync(_directory, [Release(), Minimal()], "./build.sh GenerateWorkflows", logger, Ct);
    }

    [Fact]
    public async Task An_invalid_declaration_writes_nothing()
    {
        var bad = Minimal(Job("a", "ghost")) with { FileName = "bad.yml" };
        await Assert.ThrowsAsync<BuildFailure>(() => _files.WriteAsync(_directory, [Release(), bad], Ct));
        Assert.Empty(Directory.EnumerateFiles(_directory));
    }
}

public sealed class UnifiedDiffTests
{
    [Fact]
    public void Equal_texts_have_no_diff() => Assert.Equal("", UnifiedDiff.Between("a\nb\n", "a\r\nb\r\n", "x", "y"));

    [Fact]
    public void A_changed_line_is_shown_with_three_lines_of_context()
    {
        var before = string.Join('\n', Enumerable.Range(1, 10).Select(i => $"l{i}")) + "\n";
        var after = before.Replace("l5\n", "five\n", StringComparison.Ordinal);
        Assert.Equal("--- a\n+++ b\n@@ -2,7 +2,7 @@\n l2\n l3\n l4\n-l5\n+five\n l6\n l7\n l8\n", UnifiedDiff.Between(before, after, "a", "b"));
    }

    [Fact]
    public void Distant_changes_get_separate_hunks()
    {
        var before = string.Join('\n', Enumerable.Range(1, 30).Select(i => $"l{i}")) + "\n";
        var after = before.Replace("l2\n", "two\n", StringComparison.Ordinal).Replace("l28\n", "x\n", StringComparison.Ordinal);
        Assert.Equal(2, UnifiedDiff.Between(before, after, "a", "b").Split('\n').Count(l => l.StartsWith("@@", StringComparison.Ordinal)));
    }
}
