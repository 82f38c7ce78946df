using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Polly;
using Polly.Retry;
using Serilog;

namespace Tesslate.Build.Aws;

/// <summary>One AWS HTTP call, described: which service and operation, method, path and optional JSON body.</summary>
internal sealed record AwsCall(AwsService Service, string Operation, HttpMethod Method, string PathAndQuery, string? Target = null, string? JsonBody = null)
{
    public const string Json11 = "application/x-amz-json-1.1";
}

/// <summary>
/// Sends signed AWS requests (AWSSDK.Core's public SigV4 signer, no crypto of ours): per-attempt timeout that names the
/// endpoint, Polly retries with exponential backoff and jitter for throttling/5xx/timeouts, error bodies parsed into
/// typed exceptions. Each attempt is signed afresh so a retry never reuses a stale timestamp.
/// </summary>
internal sealed partial class AwsHttpTransport(
    HttpClient http, AWSCredentials credentials, string region, AwsEndpoints endpoints, AwsOptions options, ILogger logger)
{
    private readonly RegionEndpoint _region = RegionEndpoint.GetBySystemName(region);

    // Polly refuses zero retries; a single attempt needs no pipeline.
    private readonly ResiliencePipeline _retry = options.MaxAttempts <= 1 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<AwsTransientException>().Handle<AwsEndpointTimeoutException>().Handle<AwsEndpointUnreachableException>(),
            MaxRetryAttempts = options.MaxAttempts - 1,
            Delay = options.RetryBaseDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            OnRetry = args =>
            {
                logger.Warning("AWS call failed ({Reason}); attempt {Attempt} of {Max}, retrying in {Delay:0.0} s",
                    args.Outcome.Exception?.Message, args.AttemptNumber + 1, options.MaxAttempts, args.RetryDelay.TotalSeconds);
                return ValueTask.CompletedTask;
            },
        })
        .Build();

    public async Task<JsonElement> SendAsync(AwsCall call, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(async token => await SendOnceAsync(call, token), cancellationToken);

    private async Task<JsonElement> SendOnceAsync(AwsCall call, CancellationToken cancellationToken)
    {
        var endpoint = endpoints[call.Service];
        var uri = new Uri(endpoint, call.PathAndQuery.TrimStart('/'));
        var body = call.JsonBody is null ? null : Encoding.UTF8.GetBytes(call.JsonBody);

        var signing = new AWSSigningRequest { HttpMethod = call.Method, RequestUri = uri, Content = body };
        if (call.Target is not null)
            signing.Headers["X-Amz-Target"] = call.Target;
        if (body is not null)
            signing.Headers["Content-Type"] = call.Target is not null ? AwsCall.Json11 : "application/json";
        var signed = await AWSSigV4Signer.SignAsync(signing, new AWSSigV4Parameters { Credentials = credentials, Region = _region, Service = call.Service.SigningName }, cancellationToken);

        using var request = new HttpRequestMessage(call.Method, uri);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(signing.Headers["Content-Type"]);
        }
        if (call.Target is not null)
            request.Headers.TryAddWithoutValidation("X-Amz-Target", call.Target);
        foreach (var (name, value) in signed.Headers)
            request.Headers.TryAddWithoutValidation(name, value);

        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(options.CallTimeout);
        var stopwatch = Stopwatch.StartNew();
        HttpResponseMessage response;
        string text;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
            text = await response.Content.ReadAsStringAsync(attempt.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AwsEndpointTimeoutException(call.Service, call.Operation, endpoint, options.CallTimeout);
        }
        catch (HttpRequestException e)
        {
            throw new AwsEndpointUnreachableException(call.Service, call.Operation, endpoint, e);
        }

        using (response)
        {
            logger.Debug("AWS {Service} {Operation} -> {Status} in {Elapsed} ms", call.Service, call.Operation, (int)response.StatusCode, stopwatch.ElapsedMilliseconds);
            if (response.IsSuccessStatusCode)
                return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
            var requestId = response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.FirstOrDefault() : null;
            var headerType = response.Headers.TryGetValues("X-Amzn-ErrorType", out var types) ? types.FirstOrDefault() : null;
            throw AwsServiceException.From(ParseError(call, response.StatusCode, headerType, text, requestId), choices: options.Choices);
        }
    }

    /// <summary>JSON protocols put the code in <c>__type</c> or X-Amzn-ErrorType; query/XML ones in &lt;Code&gt;.</summary>
    internal static AwsError ParseError(AwsCall call, HttpStatusCode status, string? headerType, string body, string? requestId)
    {
        string? code = null, message = null;
        if (body.TrimStart().StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                code = root.TryGetProperty("__type", out var type) ? type.GetString() : root.TryGetProperty("code", out var c) ? c.GetString() : null;
                message = root.TryGetProperty("message", out var m) ? m.GetString() : root.TryGetProperty("Message", out var m2) ? m2.GetString() : null;
            }
            catch (JsonException)
            {
            }
        }
        else if (body.Contains("<Code>", StringComparison.Ordinal))
        {
            code = XmlCode().Match(body) is { Success: true } mc ? mc.Groups[1].Value : null;
            message = XmlMessage().Match(body) is { Success: true } mm ? WebUtility.HtmlDecode(mm.Groups[1].Value) : null;
        }
        code ??= headerType;
        // "aws.protocoltests#Code" and "Code:http://internal..." are both seen in the wild.
        code = code is null ? $"Http{(int)status}" : code.Split('#').Last().Split(':').First();
        message ??= body.Length is > 0 and < 300 ? body : status.ToString();
        return new AwsError(call.Service, call.Operation, status, code, message, requestId);
    }

    [GeneratedRegex(@"<Code>([^<]*)</Code>")]
    private static partial Regex XmlCode();

    [GeneratedRegex(@"<Message>([^<]*)</Message>")]
    private static partial Regex XmlMessage();
}
