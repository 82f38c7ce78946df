namespace Tesslate.Build.Engine;

/// <summary>
/// Work that must happen at the end of the run whatever happened: delete private temp files, release locks.
/// Runs in reverse registration order, also after failures and Ctrl-C; a failing cleanup is logged, not thrown.
/// </summary>
public sealed class RunCleanup
{
    private readonly Lock _gate = new();
    private readonly List<(string Description, Func<Task> Action)> _actions = [];

    public void Register(string description, Func<Task> action)
    {
        lock (_gate)
            _actions.Add((description, action));
    }

    public T Register<T>(string description, T resource) where T : IAsyncDisposable
    {
        Register(description, async () => await resource.DisposeAsync());
        return resource;
    }

    /// <summary>Whether anything is registered (and not yet run).</summary>
    public bool HasWork
    {
        get
        {
            lock (_gate)
                return _actions.Count > 0;
        }
    }

    public async Task RunAsync(Serilog.ILogger log)
    {
        List<(string Description, Func<Task> Action)> actions;
        lock (_gate)
        {
            actions = [.. _actions];
            _actions.Clear();
        }
        actions.Reverse();
        foreach (var (description, action) in actions)
        {
            try
            {
                await action();
            }
            catch (Exception error)
            {
                log.Warning("Cleanup '{Description}' failed: {Message}", description, Secrets.Redact(error.Message));
            }
        }
    }
}
