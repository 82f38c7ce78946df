using k8s.Models;
using Tesslate.Build.Platform;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>One owner per object (k8s/ownership.yaml): Terraform-owned objects stay out of the aws overlays.</summary>
public sealed class OwnershipTests
{
    private static readonly IReadOnlyList<OwnedObject> Ownership = ObjectOwnership.Load(InfrastructureLayout.Full("k8s/ownership.yaml"));

    [Fact]
    public void Ownership_names_one_owner_and_a_reason_for_every_shared_object()
    {
        string[] required =
        [
            "Namespace//tesslate", "ServiceAccount/tesslate/tesslate-backend-sa", "StorageClass//tesslate-block-storage",
            "ConfigMap/tesslate/tesslate-config", "ConfigMap/tesslate/frontend-config", "ConfigMap/tesslate/litellm-config",
            "Deployment/tesslate/litellm", "Secret/tesslate/tesslate-app-secrets", "Secret/tesslate/postgres-secret",
            "Secret/tesslate/s3-credentials", "Secret/tesslate/marketplace-secret", "Secret/tesslate/llama-api-credentials",
            "Secret/kube-system/tesslate-btrfs-csi-config",
        ];
        var keys = Ownership.Select(o => $"{o.Kind}/{o.Namespace}/{o.Name}").ToList();

        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.All(required, key => Assert.Contains(key, keys));
        Assert.All(Ownership, o => Assert.True(o.Owner is "terraform" or "overlay" && o.Why.Length > 10, $"{o}: owner must be terraform or overlay, with a reason"));
    }

    [Theory]
    [InlineData("k8s/overlays/aws-base")]
    [InlineData("k8s/overlays/aws-beta")]
    [InlineData("k8s/overlays/aws-beta/compute")]
    [InlineData("k8s/overlays/aws-production")]
    [InlineData("k8s/overlays/aws-production/compute")]
    public async Task Aws_overlays_render_no_terraform_owned_object(string overlay)
    {
        var rendering = await Kustomize.RenderCleanAsync(overlay);

        var rendered = rendering.Objects.OfType<k8s.IKubernetesObject<V1ObjectMeta>>().ToList();
        var clashes = Ownership.Where(o => o.Owner == "terraform")
            .Where(o => rendered.Any(r => r.Kind == o.Kind && (r.Metadata.NamespaceProperty ?? "") == o.Namespace && IsNamed(r, o.Name)))
            .ToList();

        Assert.True(clashes.Count == 0, $"{overlay} renders Terraform-owned objects: {string.Join(", ", clashes)}");
    }

    [Fact]
    public async Task Every_terraform_owned_object_is_a_terraform_resource()
    {
        var stack = await Hcl2Json.StackAsync("terraform/aws");
        var text = string.Join('\n', stack.Files.Values.Select(f => f.GetRawText()));

        var missing = Ownership.Where(o => o.Owner == "terraform").Where(o => !TerraformCreates(stack, text, o)).ToList();

        Assert.True(missing.Count == 0, "not created by terraform/aws: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task Terraform_creates_no_overlay_owned_object()
    {
        var stack = await Hcl2Json.StackAsync("terraform/aws");
        var text = string.Join('\n', stack.Files.Values.Select(f => f.GetRawText()));

        var clashes = Ownership.Where(o => o.Owner == "overlay").Where(o => TerraformCreates(stack, text, o)).ToList();

        Assert.True(clashes.Count == 0, "terraform/aws also creates: " + string.Join(", ", clashes));
    }

    [Fact]
    public async Task Every_overlay_owned_object_is_rendered_and_the_local_overlay_brings_its_own_copies()
    {
        var beta = (await Kustomize.RenderCleanAsync("k8s/overlays/aws-beta")).Objects.OfType<k8s.IKubernetesObject<V1ObjectMeta>>().ToList();
        var local = (await Kustomize.RenderCleanAsync("k8s/overlays/local")).Objects.OfType<k8s.IKubernetesObject<V1ObjectMeta>>().ToList();

        foreach (var owned in Ownership.Where(o => o.Owner == "overlay"))
            Assert.True(beta.Any(r => r.Kind == owned.Kind && IsNamed(r, owned.Name)), $"{owned} is not rendered by aws-beta");
        foreach (var copy in Ownership.Where(o => o.LocalCopy))
            Assert.True(local.Any(r => r.Kind == copy.Kind && IsNamed(r, copy.Name)), $"{copy} has no copy in the local overlay");
    }

    [Fact]
    public void The_readme_table_shows_every_owned_object_with_its_owner()
    {
        var rows = File.ReadAllLines(InfrastructureLayout.Full("k8s/README.md")).Where(line => line.StartsWith('|')).ToList();

        foreach (var owned in Ownership)
        {
            Assert.True(rows.Any(row => row.Contains($"| {owned.Kind} |", StringComparison.Ordinal) && row.Contains($"`{owned.Name}`", StringComparison.Ordinal)
                && row.Contains($"**{owned.Owner}**", StringComparison.Ordinal)), $"k8s/README.md has no row for {owned}");
        }
    }

    /// <summary>Generated ConfigMaps and Secrets carry a content hash suffix after their name.</summary>
    private static bool IsNamed(k8s.IKubernetesObject<V1ObjectMeta> rendered, string name) =>
        rendered.Metadata.Name == name
        || rendered.Kind is "ConfigMap" or "Secret" && rendered.Metadata.Name.StartsWith(name + "-", StringComparison.Ordinal)
           && rendered.Metadata.Name.Length == name.Length + 11;

    private static bool TerraformCreates(TerraformStack stack, string allText, OwnedObject owned)
    {
        // The live stack's kubernetes provider 2 types (kubernetes_namespace, ...) and their _v1 twins: the same objects.
        var resourceType = owned.Kind switch
        {
            "Namespace" => "kubernetes_namespace",
            "ServiceAccount" => "kubernetes_service_account",
            "StorageClass" => "kubernetes_storage_class",
            "ConfigMap" => "kubernetes_config_map",
            "Secret" => "kubernetes_secret",
            "Deployment" => "kubernetes_deployment",
            "Ingress" => "kubernetes_ingress_v1",
            "PriorityClass" => "kubernetes_priority_class",
            _ => null,
        };

        // Anything can also be applied as a kubectl_manifest (custom resources, and the live stack's Ingress).
        if (stack.Resources("kubectl_manifest").Select(r => r.Body.GetProperty("yaml_body").GetString() ?? "").Any(body =>
                System.Text.RegularExpressions.Regex.IsMatch(body, $"kind\\s*[=:]\\s*\"?{owned.Kind}\"?\\s*$", System.Text.RegularExpressions.RegexOptions.Multiline)
                && System.Text.RegularExpressions.Regex.IsMatch(body, $"name\\s*[=:]\\s*\"?{System.Text.RegularExpressions.Regex.Escape(owned.Name)}\"?\\s*$", System.Text.RegularExpressions.RegexOptions.Multiline)))
            return true;
        if (resourceType is null)
            return false;

        foreach (var type in new[] { resourceType, resourceType.EndsWith("_v1", StringComparison.Ordinal) ? resourceType : resourceType + "_v1" }.Distinct())
        {
            foreach (var (_, body) in stack.Resources(type))
            {
                var name = body.GetProperty("metadata")[0].GetProperty("name").GetString();
                if (name == owned.Name)
                    return true;
                if (name == "${each.key}" && body.TryGetProperty("for_each", out var forEach) && forEach.ValueKind == System.Text.Json.JsonValueKind.Object
                    && forEach.TryGetProperty(owned.Name, out _))
                    return true;
            }
        }

        return false;
    }
}
