using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Tesslate.Build.Platform;

/// <summary>One entry of k8s/ownership.yaml: who creates an object both Terraform and the overlays could create, and why.</summary>
public sealed class OwnedObject
{
    public string Kind { get; set; } = "";
    public string Namespace { get; set; } = "";
    public string Name { get; set; } = "";

    /// <summary>terraform (terraform/aws or terraform/shared creates it) or overlay (k8s/overlays render it).</summary>
    public string Owner { get; set; } = "";

    public string Why { get; set; } = "";

    /// <summary>The local overlay renders its own copy (local has no Terraform).</summary>
    public bool LocalCopy { get; set; }

    public bool OwnedByTerraform => Owner == "terraform";

    public ObjectRef Ref => new(Kind, string.IsNullOrEmpty(Namespace) ? null : Namespace, Name);

    public override string ToString() => $"{Kind} {Namespace}/{Name} ({Owner})";
}

/// <summary>k8s/ownership.yaml: one owner per object, so that a release never applies what Terraform owns.</summary>
public static class ObjectOwnership
{
    public static string PathIn(string root) => System.IO.Path.Combine(root, "k8s", "ownership.yaml");

    /// <summary>Every entry; a key the file should not have is an error naming the file (OwnershipTests reads it first).</summary>
    public static IReadOnlyList<OwnedObject> Load(string path)
    {
        try
        {
            return new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build()
                .Deserialize<OwnershipFile>(File.ReadAllText(path)).Objects;
        }
        catch (YamlDotNet.Core.YamlException error)
        {
            throw new BuildFailure($"{path} is not a valid ownership file: {error.Message}",
                "Each entry has kind, namespace, name, owner (terraform or overlay), why and optionally localCopy (see the file's header).");
        }
    }

    /// <summary>The objects an aws overlay must never apply.</summary>
    public static IReadOnlyList<ObjectRef> OwnedByTerraform(string path) => [.. Load(path).Where(o => o.OwnedByTerraform).Select(o => o.Ref)];

    private sealed class OwnershipFile
    {
        public List<OwnedObject> Objects { get; set; } = [];
    }
}
