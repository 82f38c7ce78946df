using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// A loopback proxy (in front of moto, or a registry) that injects the faults a real server gives only by chance: it
/// answers the first <c>failures</c> requests with 503/throttling, and holds the first <c>gather</c> requests whose path
/// contains <c>gatherPath</c> until that many have arrived, so they reach the server together (how parallel clients race). It records each request's method
/// and path. <c>preserveHost</c> forwards the Host header, so that a registry writes its upload URLs for the proxy;
/// <c>rewrite</c> may replace a response body (by request path), e.g. to point moto's EKS clusters at a fake API server.
/// </summary>
internal sealed class FaultInjectingProxy : IAsyncDisposable
{
    private static readonly TimeSpan GatherDeadline = TimeSpan.FromSeconds(60);

    private readonly WebApplication _app;
    private readonly TaskCompletionSource _gathered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requests;
    private int _gathering;

    private FaultInjectingProxy(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public int Requests => _requests;

    /// <summary>"METHOD /path" of every request, in arrival order.</summary>
    public IReadOnlyCollection<string> Seen => _seen;

    /// <summary>Whether the held requests were released because enough arrived (false: released by the deadline).</summary>
    public bool Gathered { get; private set; }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _seen = new();

    public static async Task<FaultInjectingProxy> StartAsync(Uri target, int failures, int gather = 0, string gatherPath = "/", bool preserveHost = false,
        Func<string, byte[], byte[]?>? rewrite = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FaultInjectingProxy? self = null;
        var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        app.Run(async context =>
        {
            var count = Interlocked.Increment(ref self!._requests);
            self._seen.Enqueue($"{context.Request.Method} {context.Request.Path}");
            if (context.Request.Path.Value!.Contains(gatherPath, StringComparison.Ordinal) && Interlocked.Increment(ref self._gathering) is var held && held <= gather)
            {
                if (held == gather)
                {
                    self.Gathered = true;
                    self._gathered.TrySetResult();
                }
                await self._gathered.Task.WaitAsync(GatherDeadline).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            if (count <= failures)
            {
                context.Response.StatusCode = 503;
                context.Response.ContentType = "application/x-amz-json-1.1";
                await context.Response.WriteAsync(count % 2 == 0
                    ? """{"__type":"ThrottlingException","message":"Rate exceeded (injected)"}"""
                    : """{"__type":"ServiceUnavailableException","message":"injected"}""");
                return;
            }
            using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(target, context.Request.Path.Value!.TrimStart('/') + context.Request.QueryString));
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            forward.Content = new ByteArrayContent(body.ToArray());
            foreach (var (name, values) in context.Request.Headers)
            {
                if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
                {
                    if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                        forward.Content.Headers.TryAddWithoutValidation(name, values.ToArray());
                    if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) && preserveHost)
                        forward.Headers.Host = values.ToString();
                    continue;
                }
                forward.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
            using var response = await http.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead);
            context.Response.StatusCode = (int)response.StatusCode;
            var replaced = rewrite is null || HttpMethods.IsHead(context.Request.Method) ? null
                : rewrite(context.Request.Path.Value!, await response.Content.ReadAsByteArrayAsync());
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && !name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
                    && !(replaced is not null && name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
                    context.Response.Headers[name] = values.ToArray();
            }
            if (replaced is not null)
                await context.Response.Body.WriteAsync(replaced);
            else if (rewrite is not null && !HttpMethods.IsHead(context.Request.Method))
                await context.Response.Body.WriteAsync(await response.Content.ReadAsByteArrayAsync());
            else if (!HttpMethods.IsHead(context.Request.Method))
                await response.Content.CopyToAsync(context.Response.Body);
        });
        await app.StartAsync();
        var address = app.Urls.First();
        self = new FaultInjectingProxy(app, new Uri(address.TrimEnd('/') + "/"));
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        _gathered.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
