using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>Which application commit a run deploys: the pure decision, fed with plain facts.</summary>
public sealed class ApplicationCommitDecisionTests
{
    private const string Head = "1111111111111111111111111111111111111111";
    private const string Other = "2222222222222222222222222222222222222222";

    private static readonly ApplicationSourceFacts Laptop = new() { SourceRoot = "/src/Studio", SourceHead = Head, BuildsFromSource = true };

    [Fact]
    public void Without_a_request_a_build_deploys_the_source_roots_head()
    {
        var commit = ApplicationCommits.Decide(Laptop);
        Assert.Equal(Head, commit?.Sha);
        Assert.Contains("/src/Studio", commit!.ChosenBy);
    }

    [Fact]
    public void Without_a_request_a_deploy_of_a_build_report_deploys_the_reports_revision_and_a_run_that_builds_nothing_knows_none()
    {
        Assert.Equal(Other, ApplicationCommits.Decide(new ApplicationSourceFacts { ReportRevision = Other.ToUpperInvariant(), ReportPath = "report.json" })?.Sha);
        Assert.Null(ApplicationCommits.Decide(Laptop with { BuildsFromSource = false }));
        Assert.Null(ApplicationCommits.Decide(new ApplicationSourceFacts()));
    }

    [Fact]
    public void A_requested_ref_that_the_source_root_has_checked_out_is_the_commit()
    {
        var commit = ApplicationCommits.Decide(Laptop with { RequestedRef = "v1.2.0", ResolvedInSource = Head });
        Assert.Equal((Head, "--application-ref v1.2.0"), (commit!.Sha, commit.ChosenBy));
    }

    [Fact]
    public void A_requested_ref_the_source_root_is_not_at_names_both_commits_and_the_checkout_that_fixes_it()
    {
        var error = Assert.Throws<UsageException>(() => ApplicationCommits.Decide(Laptop with { RequestedRef = "main", ResolvedInSource = Other }));
        Assert.Contains("has 111111111111 checked out, but --application-ref 'main' is 222222222222", error.Problem);
        Assert.Contains("git -C /src/Studio checkout main", error.Fix);
    }

    [Fact]
    public void A_requested_ref_that_names_nothing_in_the_source_root_is_named_with_the_fetch_that_fixes_it()
    {
        var error = Assert.Throws<UsageException>(() => ApplicationCommits.Decide(Laptop with { RequestedRef = "release/9" }));
        Assert.Contains("--application-ref 'release/9' names no commit in the source root /src/Studio", error.Problem);
        Assert.Contains("git -C /src/Studio fetch origin release/9", error.Fix);
    }

    [Fact]
    public void A_source_root_that_is_no_git_checkout_cannot_resolve_a_request()
    {
        var error = Assert.Throws<UsageException>(() => ApplicationCommits.Decide(new ApplicationSourceFacts { RequestedRef = "main", SourceRoot = "/src/tarball" }));
        Assert.Contains("/src/tarball is not a git checkout", error.Problem);
    }

    [Fact]
    public void Without_a_source_root_only_a_full_sha_can_be_requested_and_the_error_shows_the_three_ways_to_set_one()
    {
        Assert.Equal(Other, ApplicationCommits.Decide(new ApplicationSourceFacts { RequestedRef = Other.ToUpperInvariant() })?.Sha);

        var error = Assert.Throws<UsageException>(() => ApplicationCommits.Decide(new ApplicationSourceFacts { RequestedRef = Other[..12] }));
        Assert.Contains("is not a full commit SHA", error.Problem);
        Assert.Contains("--source-root ../Studio", error.Fix);
        Assert.Contains("TESSLATE_SOURCE_ROOT", error.Fix);
        Assert.Contains("\"SourceRoot\": \"../Studio\" in .nuke/parameters.json", error.Fix);
    }

    [Fact]
    public void A_request_must_agree_with_the_build_report_it_deploys()
    {
        var facts = new ApplicationSourceFacts { RequestedRef = Head, ReportRevision = Head, ReportPath = "build-report/build-report.json" };
        Assert.Equal(Head, ApplicationCommits.Decide(facts)?.Sha);

        var error = Assert.Throws<UsageException>(() => ApplicationCommits.Decide(facts with { ReportRevision = Other }));
        Assert.Contains("build-report/build-report.json holds images built from application commit 222222222222, not 111111111111", error.Problem);
        Assert.Contains($"--application-ref {Other}", error.Fix);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef01234567", true)]
    [InlineData("0123456789ABCDEF0123456789ABCDEF01234567", true)]
    [InlineData("0123456789abcdef0123456789abcdef0123456", false)]
    [InlineData("main", false)]
    [InlineData("0123456789abcdef0123456789abcdef0123456g", false)]
    public void Only_a_full_sha_counts_as_one(string text, bool full) => Assert.Equal(full, ApplicationCommits.IsFullSha(text));
}

/// <summary>The history keeps the application commit next to this repository's, and older records still read.</summary>
public sealed class ApplicationCommitHistoryTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private const string Application = "fedcba9876543210fedcba9876543210fedcba98";

    [Fact]
    public async Task A_release_records_the_application_commit_next_to_this_repositorys_and_its_summary_names_both()
    {
        var ns = await fixture.NewNamespaceAsync("app-commit");
        var history = new ReleaseHistory(fixture.Api.CreateClient(), new ReleaseHistoryOptions(ns, "deploy-history"), new LogCapture().Logger);

        await history.AppendAsync(ReleaseHistoryTests.Draft("run-1") with { ApplicationCommit = Application }, TestContext.Current.CancellationToken);
        var read = Assert.Single(await history.ReadAsync(TestContext.Current.CancellationToken));

        Assert.Equal((Application, "0123456789abcdef0123"), (read.ApplicationCommit, read.GitSha));
        Assert.Contains("at 0123456789ab, application fedcba987654 (", read.Summary);
    }

    [Fact]
    public void A_record_written_before_the_field_existed_reads_without_an_application_commit()
    {
        var older = ReleaseLog.Serialize([ReleaseHistoryTests.Draft("run-0")]);
        Assert.DoesNotContain("applicationCommit", older);

        var read = Assert.Single(ReleaseLog.Deserialize(older));
        Assert.Null(read.ApplicationCommit);
        Assert.DoesNotContain("application", read.Summary);
        Assert.Contains("\"applicationCommit\":\"" + Application + "\"", ReleaseLog.Serialize([read with { ApplicationCommit = Application }]));
    }
}
