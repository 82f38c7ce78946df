using System.Diagnostics;

namespace Tesslate.Build.LiveContract;

/// <summary>What a child process printed and how it ended.</summary>
public sealed record ToolResult(int ExitCode, string Output, string Errors);

/// <summary>Runs the real tools the facts come from (kubectl kustomize, git, node): argument lists, never a shell.</summary>
public static class Tools
{
    public static async Task<ToolResult> RunAsync(string program, IReadOnlyList<string> arguments, string? workingDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start) ?? throw new ContractToolException($"{program} did not start", $"Install {program} and put it on PATH.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ToolResult(process.ExitCode, await output, await errors);
    }

    /// <summary>The output of the real <c>kubectl kustomize &lt;directory&gt;</c>; a failure names the directory and kubectl's message.</summary>
    public static async Task<string> KustomizeAsync(string directory, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
            throw new ContractToolException($"overlay {directory} does not exist", "Point the tool at a checkout that has this overlay.");
        ToolResult result;
        try
        {
            result = await RunAsync("kubectl", ["kustomize", directory], null, cancellationToken);
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new ContractToolException($"kubectl could not be started: {exception.Message}", "Install kubectl (it brings kustomize) and put it on PATH.");
        }

        if (result.ExitCode != 0 || result.Errors.Trim().Length > 0)
            throw new ContractToolException($"kubectl kustomize {directory} failed (exit {result.ExitCode}): {result.Errors.Trim()}", "Fix the overlay so that it renders without errors or warnings.");
        return result.Output;
    }

    /// <summary>kubectl's client and kustomize versions, recorded with the facts.</summary>
    public static async Task<string> KustomizeVersionAsync(CancellationToken cancellationToken)
    {
        var result = await RunAsync("kubectl", ["version", "--client"], null, cancellationToken);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var kustomize = lines.FirstOrDefault(l => l.StartsWith("Kustomize Version:", StringComparison.Ordinal))?["Kustomize Version:".Length..].Trim() ?? "unknown";
        return $"kubectl kustomize (kustomize {kustomize})";
    }
}

/// <summary>A failure of the tool: what went wrong and the fix.</summary>
public sealed class ContractToolException(string what, string fix) : Exception($"{what}. Fix: {fix}")
{
    public string What { get; } = what;
    public string Fix { get; } = fix;
}
