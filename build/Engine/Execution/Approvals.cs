namespace Tesslate.Build.Engine;

/// <summary>
/// One approval before the first mutation: a typed answer on a terminal, or --approve (CI, after a GitHub
/// environment's reviewers approved). Without either the run stops as AwaitingApproval.
/// </summary>
public sealed class Approvals(bool approvedByFlag, TextReader input, TextWriter output, bool interactive)
{
    private readonly SemaphoreSlim _prompt = new(1, 1);

    public static Approvals FromConsole(bool approvedByFlag) =>
        new(approvedByFlag, Console.In, Console.Out, !Console.IsInputRedirected && System.Environment.GetEnvironmentVariable("CI") is not ("true" or "1"));

    /// <param name="question">What will happen, shown above the prompt.</param>
    /// <param name="expectedAnswer">The exact text to type, e.g. <c>yes</c> or <c>destroy beta</c>.</param>
    public async Task RequireAsync(string question, string expectedAnswer, CancellationToken cancellationToken)
    {
        if (approvedByFlag)
            return;
        if (!interactive)
            throw new ApprovalRequiredException($"Approval needed: {question}",
                "Review the plan above, then run again on a terminal and answer the prompt, or pass --approve (CI passes it only after the environment's reviewers approved).");
        await _prompt.WaitAsync(cancellationToken);
        try
        {
            await output.WriteLineAsync();
            await output.WriteLineAsync(question);
            await output.WriteAsync($"Type '{expectedAnswer}' to continue: ");
            await output.FlushAsync(cancellationToken);
            var answer = await input.ReadLineAsync(cancellationToken);
            if (!string.Equals(answer?.Trim(), expectedAnswer, StringComparison.Ordinal))
                throw new BuildFailure($"Not approved (expected '{expectedAnswer}', got '{answer?.Trim()}'). Nothing was changed.");
        }
        finally
        {
            _prompt.Release();
        }
    }
}
