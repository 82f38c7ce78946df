using System.Diagnostics;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>
/// The fake cluster's time. It runs at <see cref="Speed"/> times real time (1 by default, 0 to freeze it) and a test
/// can jump it forward with <see cref="Advance"/>; the simulated controllers read only this clock.
/// </summary>
public sealed class FakeClock
{
    private readonly Lock _gate = new();
    private readonly DateTimeOffset _origin;
    private readonly Stopwatch _real = Stopwatch.StartNew();
    private TimeSpan _offset;
    private TimeSpan _realAtSpeedChange;
    private TimeSpan _simAtSpeedChange;
    private double _speed;

    internal FakeClock(DateTimeOffset origin, double speed)
    {
        _origin = origin;
        _speed = speed;
    }

    /// <summary>Raised after <see cref="Advance"/> so the controllers catch up at once.</summary>
    internal event Action? Advanced;

    public DateTimeOffset Now
    {
        get
        {
            lock (_gate)
            {
                var real = _real.Elapsed - _realAtSpeedChange;
                return _origin + _simAtSpeedChange + TimeSpan.FromTicks((long)(real.Ticks * _speed)) + _offset;
            }
        }
    }

    /// <summary>Simulated seconds per real second; 0 freezes the clock so only <see cref="Advance"/> moves it.</summary>
    public double Speed
    {
        get
        {
            lock (_gate)
            {
                return _speed;
            }
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_gate)
            {
                var real = _real.Elapsed;
                _simAtSpeedChange += TimeSpan.FromTicks((long)((real - _realAtSpeedChange).Ticks * _speed));
                _realAtSpeedChange = real;
                _speed = value;
            }
        }
    }

    /// <summary>
    /// Moves time forward in small steps, letting the controllers run after each, so a jump of a whole rollout's
    /// duration completes the rollout's successive steps as real time would.
    /// </summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        var steps = (int)Math.Clamp(Math.Ceiling(by / TimeSpan.FromMilliseconds(100)), 1, 200);
        for (var i = 0; i < steps; i++)
        {
            lock (_gate)
            {
                _offset += by / steps;
            }

            Advanced?.Invoke();
        }
    }
}
