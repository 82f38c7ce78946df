using System.Net;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary>
/// Does the cluster's API server answer this run's credentials? An authenticated GET /version with a deadline, through
/// the run's own in-memory connection. Doctor and Preflight both ask it.
/// </summary>
public static class ApiServerProbe
{
    /// <returns>The server's gitVersion.</returns>
    /// <param name="rejectedFix">What to do when the server refuses the credentials (401/403).</param>
    /// <param name="unreachableFix">What to do when it cannot be reached or does not answer in time.</param>
    public static async Task<string> VersionAsync(KubeCluster cluster, string rejectedFix, string unreachableFix, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var server = $"{cluster.DisplayName} at {cluster.Client.BaseUri.ToString().TrimEnd('/')}";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var version = await cluster.GetJsonAsync("version", deadline.Token);
            return (string?)version?["gitVersion"] ?? "unknown version";
        }
        catch (KubeApiException e) when (e.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new PrerequisiteMissingException($"The API server of {server} refused this run's credentials: GET /version answered {(int)e.Status} {e.Status}.", rejectedFix);
        }
        catch (KubeApiException e)
        {
            throw new PrerequisiteMissingException($"The API server of {server} answered GET /version with {(int)e.Status} {e.Status}: {e.ApiMessage}", unreachableFix);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PrerequisiteMissingException($"The API server of {server} did not answer GET /version within {timeout.TotalSeconds:0} s.", unreachableFix);
        }
        catch (HttpRequestException e)
        {
            throw new PrerequisiteMissingException($"The API server of {server} cannot be reached: {e.Message}", unreachableFix, e);
        }
    }
}
