using System.Text.Json.Nodes;

namespace Tesslate.Build.Kubernetes.Operations;

public enum CertificateState
{
    Ready,
    NotReady,
    Missing,

    /// <summary>The cluster does not serve cert-manager's Certificate kind at all.</summary>
    NoCertManager,
}

/// <summary>A cert-manager Certificate's Ready condition and what is still pending for it.</summary>
public sealed record CertificateReport(string Namespace, string Name, CertificateState State, string? Reason, string? Message,
    DateTimeOffset? Since, DateTimeOffset? NotAfter, IReadOnlyList<string> PendingRequests, IReadOnlyList<string> PendingChallenges)
{
    public bool IsReady => State == CertificateState.Ready;
}

/// <summary>Reads a cert-manager.io/v1 Certificate, and, when it is not Ready, its CertificateRequests and ACME Challenges.</summary>
public static class CertificateInspector
{
    public static async Task<CertificateReport> InspectAsync(KubeCluster cluster, string ns, string name, CancellationToken cancellationToken)
    {
        var certificates = await cluster.ResolveAsync("cert-manager.io/v1", "Certificate", cancellationToken);
        if (certificates is null)
            return new CertificateReport(ns, name, CertificateState.NoCertManager, null, "cert-manager's Certificate kind is not served", null, null, [], []);
        var certificate = await cluster.GetAsync(certificates, ns, name, cancellationToken);
        var report = Judge(ns, name, certificate);
        if (report.State != CertificateState.NotReady)
            return report;
        var requests = await ListNamesAsync(cluster, "cert-manager.io/v1", "CertificateRequest", ns, name, o => !IsConditionTrue(o, "Ready"), cancellationToken);
        var challenges = await ListNamesAsync(cluster, "acme.cert-manager.io/v1", "Challenge", ns, name, o => (string?)o["status"]?["state"] is not "valid", cancellationToken);
        return report with { PendingRequests = requests, PendingChallenges = challenges };
    }

    /// <summary>Pure: the Ready condition of a Certificate object (null: it does not exist).</summary>
    public static CertificateReport Judge(string ns, string name, JsonObject? certificate)
    {
        if (certificate is null)
            return new CertificateReport(ns, name, CertificateState.Missing, null, "the Certificate does not exist", null, null, [], []);
        var ready = (certificate["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == "Ready");
        var notAfter = DateTimeOffset.TryParse((string?)certificate["status"]?["notAfter"], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var n) ? n : (DateTimeOffset?)null;
        DateTimeOffset? since = DateTimeOffset.TryParse((string?)ready?["lastTransitionTime"], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var s) ? s : null;
        var state = (string?)ready?["status"] == "True" ? CertificateState.Ready : CertificateState.NotReady;
        return new CertificateReport(ns, name, state, (string?)ready?["reason"], (string?)ready?["message"] ?? (ready is null ? "no Ready condition yet (issuance not started)" : null), since, notAfter, [], []);
    }

    private static async Task<IReadOnlyList<string>> ListNamesAsync(KubeCluster cluster, string apiVersion, string kind, string ns, string certificate,
        Func<JsonObject, bool> pending, CancellationToken cancellationToken)
    {
        var resource = await cluster.ResolveAsync(apiVersion, kind, cancellationToken);
        if (resource is null)
            return [];
        var items = await cluster.ListAsync(resource, ns, null, null, cancellationToken);
        // cert-manager names requests and challenges after the certificate (<cert>-<n>, <cert>-<n>-<hash>).
        return [.. items.Where(o => ((string?)o["metadata"]?["name"] ?? "").StartsWith(certificate, StringComparison.Ordinal) && pending(o))
            .Select(o => $"{kind}/{(string?)o["metadata"]?["name"]}" + ((string?)o["status"]?["reason"] is { } reason ? $": {reason}" : ""))];
    }

    private static bool IsConditionTrue(JsonObject obj, string type) =>
        (obj["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().Any(c => (string?)c["type"] == type && (string?)c["status"] == "True");
}
