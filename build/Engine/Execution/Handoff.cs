namespace Tesslate.Build.Engine;

/// <summary>
/// A value one target hands to the targets that run after it: set once, by its producer. A reader runs after the
/// producer (the graph orders them), so it finds the value, or null when the producer was skipped or did not get that far.
/// </summary>
public sealed class Handoff<T>(string producer) where T : class
{
    private T? _value;

    public void Set(T value)
    {
        if (Interlocked.CompareExchange(ref _value, value, null) is not null)
            throw new InvalidOperationException($"{producer} handed over its result twice in one run.");
    }

    public T? ValueOrDefault => Volatile.Read(ref _value);
}
