using Amazon.Runtime;
using Tesslate.Build.Aws;
using Xunit;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// A test class against the shared moto (subclasses carry <c>[Collection("moto")]</c>): every test starts from an empty
/// emulator (<see cref="MotoFixture.ResetAsync"/>) and logs into its own <see cref="Log"/>, to assert what reached the output.
/// </summary>
public abstract class MotoTests(MotoFixture moto) : IAsyncLifetime
{
    protected MotoFixture Moto { get; } = moto;

    protected LogCapture Log { get; } = new();

    /// <summary>A session on the emulator (or on <paramref name="endpoint"/> in front of it) that logs into <see cref="Log"/>.</summary>
    protected AwsSession Session(AwsOptions? options = null, Uri? endpoint = null, AWSCredentials? credentials = null) =>
        Moto.Session(Log.Logger, options, endpoint, credentials);

    public virtual async ValueTask InitializeAsync() => await Moto.ResetAsync();

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
