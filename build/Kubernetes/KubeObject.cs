using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;

namespace Tesslate.Build.Kubernetes;

/// <summary>Names one object in a cluster: kind, namespace (null for cluster-scoped or not yet defaulted) and name.</summary>
public sealed record ObjectRef(string Kind, string? Namespace, string Name)
{
    public override string ToString() => Namespace is null ? $"{Kind}/{Name}" : $"{Kind}/{Namespace}/{Name}";

    /// <summary>Kinds compare case-insensitively (people write "deployment" as often as "Deployment").</summary>
    public bool Matches(ObjectRef other) =>
        string.Equals(Kind, other.Kind, StringComparison.OrdinalIgnoreCase)
        && string.Equals(Name, other.Name, StringComparison.Ordinal)
        && (Namespace is null || other.Namespace is null || string.Equals(Namespace, other.Namespace, StringComparison.Ordinal));
}

/// <summary>
/// One rendered manifest object, kept generic (a JSON tree) so that any kind survives rendering, pinning and
/// applying unchanged; <see cref="As{T}"/> gives a typed view where a judgement needs one.
/// </summary>
public sealed class KubeObject
{
    public KubeObject(JsonObject body)
    {
        Body = body;
        if (string.IsNullOrEmpty(ApiVersion) || string.IsNullOrEmpty(Kind) || string.IsNullOrEmpty(Name))
            throw new FormatException($"A manifest object needs apiVersion, kind and metadata.name (got {body.ToJsonString()[..Math.Min(200, body.ToJsonString().Length)]}).");
    }

    public JsonObject Body { get; }

    public string ApiVersion => (string?)Body["apiVersion"] ?? "";

    public string Kind => (string?)Body["kind"] ?? "";

    public string Name => (string?)Body["metadata"]?["name"] ?? "";

    public string? Namespace => (string?)Body["metadata"]?["namespace"];

    /// <summary>API group ("" for the core group).</summary>
    public string Group => ApiVersion.Contains('/') ? ApiVersion[..ApiVersion.IndexOf('/')] : "";

    public string Version => ApiVersion.Contains('/') ? ApiVersion[(ApiVersion.IndexOf('/') + 1)..] : ApiVersion;

    public ObjectRef Ref => new(Kind, Namespace, Name);

    public KubeObject Clone() => new((JsonObject)Body.DeepClone());

    public KubeObject WithNamespace(string ns)
    {
        var copy = Clone();
        var metadata = copy.Body["metadata"] as JsonObject ?? [];
        metadata["namespace"] = ns;
        copy.Body["metadata"] = metadata;
        return copy;
    }

    public T As<T>() => KubernetesJson.Deserialize<T>(Body.ToJsonString());

    public static KubeObject From<T>(T typed) =>
        new(JsonNode.Parse(KubernetesJson.Serialize(typed))!.AsObject());

    public string ToJson(bool indented = false) => Body.ToJsonString(new JsonSerializerOptions { WriteIndented = indented });

    public override string ToString() => Ref.ToString();
}
