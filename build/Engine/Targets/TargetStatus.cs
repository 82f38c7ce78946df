namespace Tesslate.Build.Engine;

public enum TargetStatus
{
    Scheduled,
    Running,
    Succeeded,
    Failed,
    Skipped,
    /// <summary>Not started because an earlier target failed or the run was interrupted.</summary>
    NotRun,
    /// <summary>Was running when the run was interrupted; it may have left partial work.</summary>
    Aborted,
    /// <summary>Stopped after its read-only preparation, waiting for an approval that was not given.</summary>
    AwaitingApproval,
}
