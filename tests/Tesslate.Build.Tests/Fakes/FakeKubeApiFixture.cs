using k8s;
using k8s.Models;
using Xunit;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>One fake API server for a test class (IClassFixture), running in real time.</summary>
public class FakeKubeApiFixture : IAsyncLifetime
{
    private int _namespaces;

    protected virtual FakeKubeApiOptions Options => new();

    public FakeKubeApi Api { get; private set; } = null!;

    public IKubernetes Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Api = await FakeKubeApi.StartAsync(Options);
        Client = Api.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Api.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>A fresh namespace so tests sharing the server do not see each other's objects.</summary>
    public async Task<string> NewNamespaceAsync(string prefix = "t")
    {
        var name = $"{prefix}-{Interlocked.Increment(ref _namespaces)}";
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } }, cancellationToken: TestContext.Current.CancellationToken);
        return name;
    }
}

/// <summary>A fake whose clock stands still until a test advances it.</summary>
public sealed class FrozenClockFakeKubeApiFixture : FakeKubeApiFixture
{
    protected override FakeKubeApiOptions Options => new() { ClockSpeed = 0 };
}

internal static class Poll
{
    /// <summary>Polls until done or the real-time deadline passes; the failure names what was awaited and the last value.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up waiting for {what}; last value: {KubernetesJson.Serialize(value)}");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Advances the fake's frozen clock in steps until done, failing after a simulated-time budget.</summary>
    public static async Task<T> AdvanceUntilAsync<T>(FakeKubeApi fake, Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan budget, TimeSpan? step = null)
    {
        var spent = TimeSpan.Zero;
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (spent > budget)
            {
                throw new TimeoutException($"{what} did not happen within {budget} of simulated time; last value: {KubernetesJson.Serialize(value)}");
            }

            var by = step ?? TimeSpan.FromMilliseconds(250);
            fake.Clock.Advance(by);
            spent += by;
        }
    }
}
