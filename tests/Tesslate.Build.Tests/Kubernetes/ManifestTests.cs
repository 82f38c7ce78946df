using System.Text.Json.Nodes;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

public sealed class ManifestTests
{
    [Fact]
    public void Yaml_documents_become_objects_with_kubernetes_scalar_types()
    {
        var objects = ManifestYaml.Parse("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: a
            data:
              quoted: "4"
              plain: text
            ---
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: b
              namespace: ns
            spec:
              replicas: 3
              paused: false
            """);
        Assert.Equal(2, objects.Count);
        Assert.Equal("4", (string?)objects[0].Body["data"]!["quoted"]);
        Assert.Equal(3, (long)objects[1].Body["spec"]!["replicas"]!);
        Assert.False((bool)objects[1].Body["spec"]!["paused"]!);
        Assert.Equal(new ObjectRef("Deployment", "ns", "b"), objects[1].Ref);
        Assert.Equal("apps", objects[1].Group);
        Assert.Equal("", objects[0].Group);
    }

    [Fact]
    public void A_document_without_a_name_is_refused_with_its_source()
    {
        var e = Assert.Throws<FormatException>(() => ManifestYaml.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"));
        Assert.Contains("metadata.name", e.Message);
    }

    [Fact]
    public async Task Real_kustomize_renders_the_fixture_overlay()
    {
        var objects = await KubeFixtures.RenderFixtureAsync();
        Assert.Contains(objects, o => o.Ref == new ObjectRef("Deployment", "tesslate", "tesslate-backend"));
        Assert.All(objects, o => Assert.Equal("tesslate", (string?)o.Body["metadata"]!["labels"]!["app.kubernetes.io/part-of"]));
        var backend = objects.Single(o => o.Name == "tesslate-backend" && o.Kind == "Deployment");
        Assert.Equal("Always", (string?)backend.Body["spec"]!["template"]!["spec"]!["containers"]![0]!["imagePullPolicy"]);
    }

    [Fact]
    public async Task An_overlay_that_does_not_render_shows_kustomizes_error_and_the_path()
    {
        var e = await Assert.ThrowsAsync<BuildFailure>(() => KubeFixtures.RenderFixtureAsync("broken"));
        Assert.Contains(KubeFixtures.OverlayFixture("broken"), e.Problem);
        Assert.Contains("missing-file.yaml", e.Problem);
        Assert.Contains("kubectl kustomize", e.Fix);
    }

    [Fact]
    public async Task A_missing_overlay_directory_is_named()
    {
        var e = await Assert.ThrowsAsync<BuildFailure>(() => KubeFixtures.RenderFixtureAsync("does-not-exist"));
        Assert.Contains("does-not-exist", e.Problem);
    }

    [Fact]
    public void Objects_are_applied_namespaces_first_and_workloads_after_config_and_services()
    {
        var kinds = new[] { "Deployment", "Service", "CustomThing", "ConfigMap", "Namespace", "RoleBinding", "CustomResourceDefinition", "DaemonSet", "Secret" };
        var objects = kinds.Select((k, i) => new KubeObject(new JsonObject { ["apiVersion"] = "v1", ["kind"] = k, ["metadata"] = new JsonObject { ["name"] = $"o{i}" } }));
        var sorted = ApplyOrder.Sort(objects).Select(o => o.Kind).ToList();
        Assert.Equal(["Namespace", "CustomResourceDefinition", "RoleBinding", "ConfigMap", "Secret", "Service", "Deployment", "DaemonSet", "CustomThing"], sorted);
    }
}
