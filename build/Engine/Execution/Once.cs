namespace Tesslate.Build.Engine;

/// <summary>
/// Work done once per run, by whichever target asks first, while targets run side by side: later callers share the
/// same task (its result or its failure). The work runs with the first caller's token; an interrupt cancels it for all.
/// </summary>
public sealed class Once<T>
{
    private readonly Lock _gate = new();
    private Task<T>? _task;

    public Task<T> GetAsync(Func<Task<T>> start)
    {
        lock (_gate)
            return _task ??= start();
    }

    public T Get(Func<T> create) => GetAsync(() => Task.FromResult(create())).GetAwaiter().GetResult();

    /// <summary>The result, if the work has finished successfully; otherwise the default.</summary>
    public T? ValueOrDefault
    {
        get
        {
            lock (_gate)
                return _task is { IsCompletedSuccessfully: true } done ? done.Result : default;
        }
    }

    /// <summary>Whether someone started the work (it may still run, or have failed).</summary>
    public bool IsStarted
    {
        get
        {
            lock (_gate)
                return _task is not null;
        }
    }

    /// <summary>The task if the work was started: to await it where only its outcome matters.</summary>
    public Task<T>? Started
    {
        get
        {
            lock (_gate)
                return _task;
        }
    }
}

/// <summary><see cref="Once{T}"/> for work without a result (a preparation, an approval).</summary>
public sealed class Once
{
    private readonly Lock _gate = new();
    private Task? _task;

    public Task RunAsync(Func<Task> start)
    {
        lock (_gate)
            return _task ??= start();
    }

    /// <summary>The task if the work was started: to judge its outcome (still waiting, failed) without starting it.</summary>
    public Task? Started
    {
        get
        {
            lock (_gate)
                return _task;
        }
    }
}
