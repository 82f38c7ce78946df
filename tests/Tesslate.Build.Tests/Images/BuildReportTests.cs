using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed class BuildReportTests
{
    private static readonly BuildReport Report = new()
    {
        Registry = "localhost:5000",
        Revision = "0123456789abcdef",
        Environment = "beta",
        Created = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
        Images =
        [
            new ImageReport { Name = "backend", Registry = "localhost:5000", Repository = "tesslate-backend", Outcome = ImageOutcome.Built,
                Tags = ["git-0123456789ab", "src-ff"], Digest = "sha256:abc", Fingerprint = "ff", Duration = TimeSpan.FromSeconds(12), LogPath = "/x/backend.log" },
            new ImageReport { Name = "ast", Registry = "localhost:5000", Repository = "tesslate-ast", Outcome = ImageOutcome.Failed,
                Error = "boom", LastLines = ["line 1", "line 2"], LogPath = "/x/ast.log" },
        ],
    };

    [Fact]
    public void A_report_written_to_a_file_reads_back_equal()
    {
        var path = Path.Combine(Path.GetTempPath(), $"report-{Guid.NewGuid():N}.json");
        try
        {
            Report.Write(path);
            var read = BuildReport.Read(path);
            Assert.Equal(Report.ToJson(), read.ToJson());
            Assert.Equal("localhost:5000/tesslate-backend@sha256:abc", read["backend"]!.PinnedReference);
            Assert.Contains("\"outcome\": \"built\"", File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Reading_a_missing_or_foreign_report_is_a_usage_error()
    {
        Assert.Contains("does not exist", Assert.Throws<UsageException>(() => BuildReport.Read("/nonexistent/report.json")).Problem);
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "[1,2]");
        Assert.Contains("not a build report", Assert.Throws<UsageException>(() => BuildReport.Read(path)).Problem);
        File.Delete(path);
    }

    [Fact]
    public void A_failed_image_fails_the_run_with_its_last_lines_and_log_path_and_lists_what_was_pushed()
    {
        var error = Assert.Throws<BuildFailure>(Report.EnsureSuccess);
        Assert.Contains("1 of 2 images failed: ast", error.Problem);
        Assert.Contains("Pushed: backend", error.Problem);
        Assert.Contains("    line 2", error.Problem);
        Assert.Contains("full log: /x/ast.log", error.Problem);
    }
}
