namespace Tesslate.Build.Tests.Fakes;

/// <summary>
/// What the fake's caller may do. Everything is allowed until a test denies it; a denial answers
/// SelfSubjectAccessReviews with allowed=false and the real request with 403 Forbidden.
/// </summary>
public sealed class AccessRules
{
    private readonly Lock _gate = new();
    private readonly List<Denial> _denials = [];

    /// <summary>A denied permission; null fields match anything. Resource is the plural ("deployments").</summary>
    public sealed record Denial(string? Verb, string? Resource, string? Namespace = null, string? Group = null, string? Subresource = null);

    /// <summary>Shown as the username in Forbidden messages, like an IAM-mapped user.</summary>
    public string User { get; set; } = "fake-user";

    public void Deny(string? verb, string? resource, string? @namespace = null, string? group = null, string? subresource = null)
    {
        lock (_gate)
        {
            _denials.Add(new Denial(verb, resource, @namespace, group, subresource));
        }
    }

    public void AllowAll()
    {
        lock (_gate)
        {
            _denials.Clear();
        }
    }

    public bool IsAllowed(string verb, string group, string resource, string? @namespace, string? subresource = null)
    {
        lock (_gate)
        {
            return !_denials.Any(d =>
                (d.Verb is null or "*" || d.Verb == verb)
                && (d.Resource is null or "*" || d.Resource == resource)
                && (d.Group is null or "*" || d.Group == group)
                && (d.Namespace is null || d.Namespace == @namespace)
                && (d.Subresource is null || d.Subresource == subresource));
        }
    }
}
