using System.Text.Json.Nodes;
using Tesslate.Build.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

public sealed class RegistryRetargetingTests
{
    private static readonly ObjectRef RuntimeImages = new("ConfigMap", "tesslate", "tesslate-runtime-images");

    private static KubeObject Deployment() => new(JsonNode.Parse("""
        {
          "apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": { "name": "tesslate-backend", "namespace": "tesslate" },
          "spec": { "template": { "spec": {
            "initContainers": [ { "name": "migrate", "image": "localhost:5000/tesslate-backend:local" } ],
            "containers": [
              { "name": "backend", "image": "localhost:5000/tesslate-backend:local",
                "env": [
                  { "name": "K8S_DEVSERVER_IMAGE", "value": "localhost:5000/tesslate-devserver:local" },
                  { "name": "APP_IMAGE_REGISTRY_PREFIX", "value": "localhost:5000" },
                  { "name": "OTHER", "value": "localhost:5000" }
                ] },
              { "name": "ast", "image": "localhost:5000/tesslate-ast@sha256:abc" },
              { "name": "redis", "image": "redis:7.4.2-alpine" },
              { "name": "foreign", "image": "localhost:5000/someone-else:1" }
            ] } } }
        }
        """)!.AsObject());

    private static KubeObject ConfigMap() => new(JsonNode.Parse("""
        { "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "tesslate-runtime-images", "namespace": "tesslate" },
          "data": { "devserver": "localhost:5000/tesslate-devserver:local", "note": "localhost:5000" } }
        """)!.AsObject());

    private static IReadOnlyList<KubeObject> Retarget(string to) =>
        RegistryRetargeting.Retarget([Deployment(), ConfigMap()], "localhost:5000", to, ["tesslate-backend", "tesslate-ast", "tesslate-devserver"],
            [RuntimeImages], ["K8S_DEVSERVER_IMAGE"], ["APP_IMAGE_REGISTRY_PREFIX"]);

    [Fact]
    public void Catalog_references_move_to_the_chosen_registry_keeping_tags_and_digests()
    {
        var objects = Retarget("127.0.0.1:5999");

        var uses = WorkloadImages.FromManifests(objects).ToDictionary(u => u.Container, u => u.Image.ToString());
        Assert.Equal("127.0.0.1:5999/tesslate-backend:local", uses["migrate"]);
        Assert.Equal("127.0.0.1:5999/tesslate-backend:local", uses["backend"]);
        Assert.Equal("127.0.0.1:5999/tesslate-ast@sha256:abc", uses["ast"]);
        var env = objects[0].Body["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray().ToDictionary(v => (string)v!["name"]!, v => (string?)v!["value"]);
        Assert.Equal("127.0.0.1:5999/tesslate-devserver:local", env["K8S_DEVSERVER_IMAGE"]);
        Assert.Equal("127.0.0.1:5999", env["APP_IMAGE_REGISTRY_PREFIX"]);
        Assert.Equal("127.0.0.1:5999/tesslate-devserver:local", (string?)objects[1].Body["data"]!["devserver"]);
    }

    [Fact]
    public void Other_images_unnamed_variables_and_non_image_values_stay()
    {
        var objects = Retarget("127.0.0.1:5999");

        var uses = WorkloadImages.FromManifests(objects).ToDictionary(u => u.Container, u => u.Image.ToString());
        Assert.Equal("redis:7.4.2-alpine", uses["redis"]);
        Assert.Equal("localhost:5000/someone-else:1", uses["foreign"]);
        var env = objects[0].Body["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray();
        Assert.Equal("localhost:5000", (string?)env.Single(v => (string?)v!["name"] == "OTHER")!["value"]);
        Assert.Equal("localhost:5000", (string?)objects[1].Body["data"]!["note"]);
    }

    [Fact]
    public void The_input_is_not_modified_and_the_same_registry_changes_nothing()
    {
        var input = new[] { Deployment(), ConfigMap() };
        var before = string.Join("\n", input.Select(o => o.ToJson()));

        RegistryRetargeting.Retarget(input, "localhost:5000", "127.0.0.1:5999", ["tesslate-backend", "tesslate-devserver"], [RuntimeImages]);
        var same = RegistryRetargeting.Retarget(input, "localhost:5000", "localhost:5000", ["tesslate-backend"], [RuntimeImages]);

        Assert.Equal(before, string.Join("\n", input.Select(o => o.ToJson())));
        Assert.Equal(before, string.Join("\n", same.Select(o => o.ToJson())));
    }

    [Fact]
    public void Pinning_after_retargeting_pins_every_catalog_reference_for_the_chosen_registry()
    {
        const string digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        var pins = new Dictionary<string, string>
        {
            ["127.0.0.1:5999/tesslate-backend"] = $"127.0.0.1:5999/tesslate-backend@{digest}",
            ["127.0.0.1:5999/tesslate-ast"] = $"127.0.0.1:5999/tesslate-ast@{digest}",
            ["127.0.0.1:5999/tesslate-devserver"] = $"127.0.0.1:5999/tesslate-devserver@{digest}",
        };

        var pinned = DigestPinning.Pin(Retarget("127.0.0.1:5999"), pins, [RuntimeImages], ["K8S_DEVSERVER_IMAGE"]);

        Assert.Empty(pinned.UnusedRepositories);
        Assert.DoesNotContain(pinned.Unpinned, u => u.Image.Repository.Contains("tesslate-", StringComparison.Ordinal) && u.Container != "foreign");
        Assert.Equal($"127.0.0.1:5999/tesslate-devserver@{digest}", (string?)pinned.Objects[1].Body["data"]!["devserver"]);
    }
}
