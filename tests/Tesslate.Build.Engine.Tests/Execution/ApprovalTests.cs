using Xunit;

namespace Tesslate.Build.Engine.Tests;

public sealed class ApprovalTests
{
    [Fact]
    public async Task The_approve_flag_approves_without_asking()
    {
        var output = new StringWriter();
        await new Approvals(approvedByFlag: true, new StringReader(""), output, interactive: false).RequireAsync("Release?", "yes", CancellationToken.None);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public async Task Without_a_terminal_and_without_the_flag_the_run_awaits_approval()
    {
        var approvals = new Approvals(approvedByFlag: false, new StringReader("yes\n"), new StringWriter(), interactive: false);
        var error = await Assert.ThrowsAsync<ApprovalRequiredException>(() => approvals.RequireAsync("Release to production?", "yes", CancellationToken.None));
        Assert.Contains("Approval needed: Release to production?", error.Problem);
        Assert.Contains("--approve", error.Fix);
    }

    [Theory]
    [InlineData("yes\n", true)]
    [InlineData("y\n", false)]
    [InlineData("YES\n", false)]
    [InlineData("", false)]
    public async Task On_a_terminal_only_the_exact_answer_approves(string typed, bool approved)
    {
        var output = new StringWriter();
        var approvals = new Approvals(approvedByFlag: false, new StringReader(typed), output, interactive: true);
        var attempt = approvals.RequireAsync("Destroy beta?", "yes", CancellationToken.None);
        if (approved)
            await attempt;
        else
            Assert.Contains("Not approved", (await Assert.ThrowsAsync<BuildFailure>(() => attempt)).Problem);
        Assert.Contains("Type 'yes' to continue:", output.ToString());
    }

    [Fact]
    public async Task A_typed_confirmation_must_match_word_for_word()
    {
        var approvals = new Approvals(false, new StringReader("destroy production\n"), new StringWriter(), interactive: true);
        await Assert.ThrowsAsync<BuildFailure>(() => approvals.RequireAsync("Destroy?", "destroy beta", CancellationToken.None));
    }
}
