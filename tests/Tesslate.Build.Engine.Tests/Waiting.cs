namespace Tesslate.Build.Engine.Tests;

/// <summary>Polls a condition every 20 ms until it holds, failing after a deadline (tests never sleep a fixed time).</summary>
internal static class Waiting
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("condition not met within the deadline");
            await Task.Delay(20);
        }
    }
}
