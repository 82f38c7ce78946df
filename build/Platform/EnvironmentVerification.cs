using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Kubernetes.Operations;

namespace Tesslate.Build.Platform;

public sealed record VerifyReport(HttpCheckResult Site, HttpCheckResult Backend, CertificateReport Certificate, IReadOnlyList<string> Diagnosis)
{
    public bool Ok => Site.Ok && EnvironmentVerification.BackendAnswers(Backend) && Certificate.IsReady;

    public void ThrowIfFailed()
    {
        if (!Ok)
            throw new BuildFailure("Verify found problems:" + Environment.NewLine + string.Join(Environment.NewLine, Diagnosis.Select(d => "  " + d)),
                "Follow the steps listed above, then run Verify again.");
    }
}

/// <summary>
/// Verify: the environment's public URL, a backend route through the same host, and the wildcard certificate's Ready
/// condition, with the cert-manager diagnosis (legacy-pipeline.md §7) when it is not Ready.
/// </summary>
public static class EnvironmentVerification
{
    /// <summary>
    /// The ingress sends <c>/api</c> to the backend and everything else to the frontend (terraform/aws/kubernetes.tf),
    /// so the backend's own <c>/health</c> is not reachable from outside: <c>/api/config</c> is its public, unauthenticated
    /// JSON route.
    /// </summary>
    public const string BackendPath = "/api/config";

    public static async Task<VerifyReport> RunAsync(KubeCluster cluster, HttpClient http, Uri baseUrl, TimeSpan timeout, CancellationToken cancellationToken, string backendPath = BackendPath)
    {
        var site = HttpCheck.GetAsync(http, baseUrl, timeout, cancellationToken);
        var backend = HttpCheck.GetAsync(http, new Uri(baseUrl, backendPath), timeout, cancellationToken);
        var certificate = CertificateInspector.InspectAsync(cluster, PlatformWorkloads.Namespace, PlatformWorkloads.WildcardCertificate, cancellationToken);
        await Task.WhenAll(site, backend, certificate);
        return new VerifyReport(site.Result, backend.Result, certificate.Result, Diagnose(site.Result, backend.Result, certificate.Result, DateTimeOffset.UtcNow));
    }

    /// <summary>Pure: the backend answered, and not with a page (an HTML 200 is the frontend's catch-all route).</summary>
    public static bool BackendAnswers(HttpCheckResult backend) => backend.Ok && !backend.IsHtml;

    /// <summary>Pure: what each failed check means and how to look further.</summary>
    public static IReadOnlyList<string> Diagnose(HttpCheckResult site, HttpCheckResult backend, CertificateReport certificate, DateTimeOffset now)
    {
        var lines = new List<string>();
        if (!site.Ok)
            lines.Add($"✗ {site}: {(site.StatusCode == 503 ? "ingress answered 503 — the backend is not Ready or ingress-nginx has stale endpoints: kubectl get pods -n tesslate; kubectl get endpoints -n tesslate; kubectl rollout restart deploy/ingress-nginx-controller -n ingress-nginx" : "the site does not answer — check DNS for the domain and the ingress (kubectl get ingress -n tesslate)")}");
        if (!backend.Ok)
            lines.Add($"✗ {backend}: the backend does not answer — kubectl get pods -n tesslate -l app=tesslate-backend; kubectl logs -n tesslate deploy/tesslate-backend --tail=100");
        else if (backend.IsHtml)
            lines.Add($"✗ {backend}: answered with a web page — the frontend served it, so /api does not reach the backend: check that tesslate-ingress routes /api to tesslate-backend-service (kubectl describe ingress tesslate-ingress -n tesslate)");
        switch (certificate.State)
        {
            case CertificateState.NoCertManager:
                lines.Add("✗ cert-manager is not installed (no Certificate kind): enable_cert_manager = true in the tfvars, then TerraformApply.");
                break;
            case CertificateState.Missing:
                lines.Add($"✗ Certificate {certificate.Namespace}/{certificate.Name} does not exist: Terraform creates it — run TerraformPlan/TerraformApply for this environment.");
                break;
            case CertificateState.NotReady:
                var pendingFor = certificate.Since is { } since ? $" for {Durations.Format(now - since)}" : "";
                lines.Add($"✗ Certificate {certificate.Namespace}/{certificate.Name} is not Ready{pendingFor}: {certificate.Reason}{(certificate.Message is null ? "" : " — " + certificate.Message)}");
                lines.AddRange(certificate.PendingRequests.Select(r => "    pending " + r));
                lines.AddRange(certificate.PendingChallenges.Select(c => "    pending " + c));
                lines.Add("  First issuance takes 2–5 minutes. Longer than 10 minutes usually means the Cloudflare API token lacks Zone:Zone:Read and Zone:DNS:Edit on the zone (or names another zone).");
                lines.Add($"  Inspect: kubectl describe certificate {certificate.Name} -n {certificate.Namespace}; kubectl describe certificaterequest -n {certificate.Namespace}; kubectl get challenges -A; kubectl logs -n cert-manager deploy/cert-manager --tail=100");
                break;
        }
        if (certificate.IsReady && certificate.NotAfter is { } notAfter && notAfter - now < TimeSpan.FromDays(14))
            lines.Add($"! Certificate {certificate.Name} expires {notAfter:yyyy-MM-dd} (in {Durations.Format(notAfter - now)}); renewal should have happened — check cert-manager's logs.");
        if (lines.Count == 0)
            lines.Add($"✓ {site}; ✓ {backend}; ✓ certificate {certificate.Name} Ready");
        return lines;
    }
}
