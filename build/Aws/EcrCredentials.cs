namespace Tesslate.Build.Aws;

/// <summary>
/// The registry login of the run: fetched once, fetched again from five minutes before it expires. An expiry already in the
/// past (an emulator's fixed 2015 date) simply means a fresh token for each use, never a failure.
/// </summary>
public sealed class EcrCredentials(EcrClient ecr, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private EcrAuthorization? _current;

    public async Task<EcrAuthorization> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } current && !current.NeedsRefresh(_time.GetUtcNow()))
            return current;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } again && !again.NeedsRefresh(_time.GetUtcNow()))
                return again;
            return _current = await ecr.GetAuthorizationTokenAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }
}
