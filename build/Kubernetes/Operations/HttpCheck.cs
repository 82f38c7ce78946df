using System.Diagnostics;

namespace Tesslate.Build.Kubernetes.Operations;

public sealed record HttpCheckResult(Uri Url, int? StatusCode, string? ContentType, string? Error, TimeSpan Duration)
{
    public bool Ok => StatusCode is >= 200 and < 400;

    /// <summary>A web page rather than an API answer.</summary>
    public bool IsHtml => string.Equals(ContentType, "text/html", StringComparison.OrdinalIgnoreCase);

    public override string ToString() =>
        StatusCode is { } code ? $"{Url} → {code}{(ContentType is null ? "" : $" ({ContentType})")} in {Duration.TotalMilliseconds:0} ms" : $"{Url} → {Error}";
}

/// <summary>One GET with its own deadline; never throws for HTTP or network errors (the result says what happened).</summary>
public static class HttpCheck
{
    public static async Task<HttpCheckResult> GetAsync(HttpClient http, Uri url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            return new HttpCheckResult(url, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, null, clock.Elapsed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new HttpCheckResult(url, null, null, $"no answer within {timeout.TotalSeconds:0} s", clock.Elapsed);
        }
        catch (HttpRequestException e)
        {
            return new HttpCheckResult(url, null, null, e.InnerException?.Message ?? e.Message, clock.Elapsed);
        }
    }
}
