namespace Tesslate.Build.Kubernetes;

/// <summary>
/// The field manager every write of the pipeline is recorded under (server-side apply ownership, managedFields): one
/// name, so the pipeline's applies and patches own their fields together and never conflict with each other.
/// </summary>
public static class FieldManagers
{
    public const string Pipeline = "tesslate-build";
}
