using System.Text.RegularExpressions;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Kubernetes.Operations;

namespace Tesslate.Build.Platform;

/// <summary>Migrate: <c>alembic upgrade head</c> in a Ready backend pod, with the known failures explained.</summary>
public static partial class DatabaseMigration
{
    public static readonly IReadOnlyList<string> Command = ["alembic", "upgrade", "head"];

    public const string Container = "backend";

    public static async Task<ExecResult> RunAsync(KubeCluster cluster, Serilog.ILogger logger, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // A Ready pod of the current ReplicaSet: migrations must run with the new code, never in a pod shutting down.
        var pod = (await new PodCommandRunner(cluster.Client, logger).FindReadyPodAsync(PlatformWorkloads.Namespace, PlatformWorkloads.Backend.Name, cancellationToken))?.Metadata.Name
            ?? throw new BuildFailure($"{PlatformWorkloads.Backend} has no Ready pod of its current version.",
                "Wait for its rollout (WaitRollout) or look at its pods: kubectl get pods -n tesslate -l app=tesslate-backend");
        logger.Information("Running {Command} in {Pod}", string.Join(' ', Command), pod);
        var result = await PodExec.RunAsync(cluster, PlatformWorkloads.Namespace, pod, Container, Command, timeout, cancellationToken);
        foreach (var line in result.Lines)
            logger.Information("[{Pod}] {Line}", pod, line);
        Judge(result);
        return result;
    }

    /// <summary>Pure: success, or a failure naming the cause and the fix (legacy-pipeline.md §7).</summary>
    public static void Judge(ExecResult result)
    {
        var text = result.StandardOutput + "\n" + result.StandardError;
        if (text.Contains("Multiple heads", StringComparison.OrdinalIgnoreCase))
            throw new BuildFailure("alembic found multiple heads: two migration branches diverged and nothing was migrated.",
                "Merge them in the application repository: alembic merge heads -m \"merge_heads\", commit the new revision, deploy the backend, then run Migrate again.");
        if (result.ExitCode == 0)
            return;
        if (MissingRelation().Match(text) is { Success: true } missing)
            throw new BuildFailure($"A migration failed because relation \"{missing.Groups["name"].Value}\" does not exist (exit {result.ExitCode}).",
                "The migrations before it were not applied (the same error in the backend's logs means Migrate never ran), or a revision depends on one it does not declare: check 'alembic current' and 'alembic history' in the pod, fix the revision's down_revision, then run Migrate again.");
        var tail = string.Join(Environment.NewLine, result.Lines.TakeLast(15));
        throw new BuildFailure($"alembic upgrade head failed in {result.Pod} (exit {result.ExitCode}):{Environment.NewLine}{tail}",
            $"Read the error above; the pod's full output: kubectl logs -n {PlatformWorkloads.Namespace} {result.Pod} -c {Container}.");
    }

    [GeneratedRegex("""relation "(?<name>[^"]+)" does not exist""")]
    private static partial Regex MissingRelation();
}
