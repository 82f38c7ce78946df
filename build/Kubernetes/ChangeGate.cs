using System.Net.Http;

namespace Tesslate.Build.Kubernetes;

/// <summary>
/// Called before every change a run makes to an environment (<paramref name="change"/> says what, for a question or a
/// refusal); it throws to stop the change. The pipeline's gate stops a run that lost its deploy lock and, in an
/// environment that needs approval, waits for it before the first change.
/// </summary>
public delegate Task ChangeGate(string change, CancellationToken cancellationToken);

/// <summary>
/// Puts every write to the cluster through the gate: creates, updates, patches and deletes, but not server-side dry
/// runs, access reviews (questions, not changes) or the deploy lock's own Lease (taking, renewing and releasing it is
/// how the lock works). Exec does not pass through HTTP handlers: its callers ask the gate themselves.
/// </summary>
public sealed class ChangeGateHandler(ChangeGate gate) : DelegatingHandler
{
    private static readonly string[] Reviews = ["selfsubjectaccessreviews", "selfsubjectrulesreviews", "subjectaccessreviews", "tokenreviews"];

    /// <summary>Pure: whether a request changes the cluster.</summary>
    public static bool IsChange(HttpMethod method, Uri uri)
    {
        if (method != HttpMethod.Post && method != HttpMethod.Put && method != HttpMethod.Patch && method != HttpMethod.Delete)
            return false;
        if (uri.Query.Split(['?', '&'], StringSplitOptions.RemoveEmptyEntries).Any(p => p.Equals("dryRun=All", StringComparison.Ordinal)))
            return false;
        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length > 0 && Reviews.Contains(segments[^1], StringComparer.Ordinal))
            return false;
        var leases = Array.IndexOf(segments, "leases");
        return !(leases > 0 && segments.Contains("coordination.k8s.io", StringComparer.Ordinal));
    }

    /// <summary>"PATCH deployments/tesslate-backend in tesslate": what the request changes, for the gate's messages.</summary>
    public static string Describe(HttpMethod method, Uri uri)
    {
        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.IndexOf(segments, "namespaces");
        var namespaced = at >= 0 && at + 2 < segments.Length;
        var rest = namespaced ? segments[(at + 2)..] : segments.SkipWhile(s => s is "api" or "apis").Skip(segments[0] == "apis" ? 2 : 1).ToArray();
        var what = rest.Length == 0 ? uri.AbsolutePath : string.Join('/', rest);
        return $"{method.Method} {what}" + (namespaced ? $" in {segments[at + 1]}" : "");
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } uri && IsChange(request.Method, uri))
            await gate(Describe(request.Method, uri), cancellationToken);
        return await base.SendAsync(request, cancellationToken);
    }
}
