namespace Tesslate.Build.Platform;

/// <summary>What a run will change, judged from the targets it schedules (and the flags that widen them).</summary>
public sealed record RunChanges(bool Terraform, bool Cluster)
{
    /// <summary>Targets that change what runs in the cluster or what the environment tag names (and write the history).</summary>
    public static readonly IReadOnlyList<string> ClusterTargets =
        ["KustomizeApply", "RolloutRestart", "SeedApps", "Deploy", "Rollback", "Scale", "SafeShutdown", "Resume", "DeployCompute"];

    public bool Environment => Terraform || Cluster;

    /// <param name="scheduled">The targets this run will execute.</param>
    /// <param name="promote">BuildImages --promote moves the environment tag.</param>
    /// <param name="reloadApplies">Reload without --workloads applies the manifests (with --workloads it only restarts).</param>
    /// <param name="runsTerraform">The environment has a Terraform stack (TerraformApply does nothing otherwise).</param>
    public static RunChanges Of(IReadOnlyCollection<string> scheduled, bool promote, bool reloadApplies, bool runsTerraform) => new(
        Terraform: runsTerraform && scheduled.Contains("TerraformApply"),
        Cluster: scheduled.Any(ClusterTargets.Contains) || (promote && scheduled.Contains("BuildImages")) || (reloadApplies && scheduled.Contains("Reload")));
}

/// <summary>The approval rule of a release (pure): the pipeline asks once, before the first mutation, when this is not empty.</summary>
public static class ReleaseApproval
{
    /// <summary>
    /// Production needs an approval for any run that changes it; anywhere, a plan that destroys or replaces does too.
    /// A build-only run (images pushed under immutable tags) changes no environment and never needs one.
    /// </summary>
    public static IReadOnlyList<string> Reasons(EnvironmentSettings environment, RunChanges changes, int destroyedOrReplaced)
    {
        var reasons = new List<string>();
        if (environment.RequiresApproval && changes.Environment)
            reasons.Add($"{environment.Id} is production");
        if (destroyedOrReplaced > 0)
            reasons.Add($"Terraform would destroy or replace {destroyedOrReplaced} resource(s)");
        return reasons;
    }
}
