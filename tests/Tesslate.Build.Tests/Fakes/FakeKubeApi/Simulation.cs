namespace Tesslate.Build.Tests.Fakes;

/// <summary>Knobs of the simulated controllers and kubelet.</summary>
public sealed class Simulation
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Namespace, string Workload), TimeSpan> _durations = [];
    private readonly Dictionary<(string Namespace, string Workload), IReadOnlyList<string>> _logs = [];
    private readonly Dictionary<(string Namespace, string Workload), TimeSpan> _shutdowns = [];

    /// <summary>How long a whole rollout of a workload takes in simulated time, unless set per workload.</summary>
    public TimeSpan DefaultRolloutDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Stops every controller (a cluster whose controller-manager is down): status stops moving.</summary>
    public bool ControllersPaused { get; set; }

    /// <summary>Set the rollout duration of one Deployment, DaemonSet or StatefulSet.</summary>
    public void SetRolloutDuration(string @namespace, string workload, TimeSpan duration)
    {
        lock (_gate)
        {
            _durations[(@namespace, workload)] = duration;
        }
    }

    public TimeSpan RolloutDuration(string @namespace, string workload)
    {
        lock (_gate)
        {
            return _durations.GetValueOrDefault((@namespace, workload), DefaultRolloutDuration);
        }
    }

    /// <summary>
    /// How long the containers of a workload's pods (or of a bare pod, by its name) take to stop after SIGTERM when
    /// the pod is deleted: it stays Terminating that long, at most its grace period. Default zero: they exit at once.
    /// </summary>
    public void SetShutdownDuration(string @namespace, string workload, TimeSpan duration)
    {
        lock (_gate)
        {
            _shutdowns[(@namespace, workload)] = duration;
        }
    }

    internal TimeSpan ShutdownDuration(string @namespace, string workload)
    {
        lock (_gate)
        {
            return _shutdowns.GetValueOrDefault((@namespace, workload), TimeSpan.Zero);
        }
    }

    /// <summary>What GET pods/{name}/log answers for the current container of a workload's pods.</summary>
    public void SetLogs(string @namespace, string workload, IReadOnlyList<string> lines)
    {
        lock (_gate)
        {
            _logs[(@namespace, workload)] = lines;
        }
    }

    internal IReadOnlyList<string> Logs(string @namespace, string workload)
    {
        lock (_gate)
        {
            return _logs.GetValueOrDefault((@namespace, workload), []);
        }
    }
}
