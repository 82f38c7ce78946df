using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Xunit;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>
/// The fake's field semantics a release depends on: what the real API server refuses to change (422 Invalid in the
/// Status format, naming each field), what server-side apply removes, and objects as client-side kubectl apply left them.
/// </summary>
public sealed class FakeKubeApiFieldTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private readonly IKubernetes _client = fixture.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject Deployment(string ns, string name, string selectorValue, params (string Name, string Value)[] env) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = "Deployment",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["spec"] = new JsonObject
        {
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = selectorValue } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = selectorValue } },
                ["spec"] = new JsonObject
                {
                    ["containers"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "app",
                        ["image"] = "registry.test/app@sha256:" + new string('1', 64),
                        ["env"] = new JsonArray([.. env.Select(e => (JsonNode)new JsonObject { ["name"] = e.Name, ["value"] = e.Value })]),
                    }),
                },
            },
        },
    };

    /// <summary>An answer other than 2xx: its status code and body.</summary>
    private sealed class ApiError(HttpStatusCode status, string content) : Exception(content)
    {
        public HttpStatusCode Status { get; } = status;
    }

    private static Task<ApiError> RefusedAsync(Func<Task> request) => Assert.ThrowsAsync<ApiError>(request);

    private static JsonObject Status(ApiError e) => JsonNode.Parse(e.Message)!.AsObject();

    private Task<JsonObject> ApplyAsync(string path, JsonObject body, bool dryRun = false) =>
        SendAsync(HttpMethod.Patch, $"{path}?fieldManager=tesslate-build&force=true{(dryRun ? "&dryRun=All" : "")}", body.ToJsonString(), "application/apply-patch+yaml");

    private async Task<JsonObject> SendAsync(HttpMethod method, string path, string body, string contentType)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, new Uri(new Uri(fixture.Api.Url), path)) { Content = new StringContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "fake-token");
        using var response = await http.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        if (!response.IsSuccessStatusCode)
            throw new ApiError(response.StatusCode, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    [Fact]
    public async Task A_new_selector_is_refused_with_422_naming_the_field_even_in_a_dry_run_and_nothing_changes()
    {
        var ns = await fixture.NewNamespaceAsync();
        var path = $"apis/apps/v1/namespaces/{ns}/deployments/web";
        await ApplyAsync(path, Deployment(ns, "web", "web"));

        foreach (var dryRun in new[] { true, false })
        {
            var refused = await RefusedAsync(() => ApplyAsync(path, Deployment(ns, "web", "web-v2"), dryRun));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
            var status = Status(refused);
            Assert.Equal(("Status", "Failure", "Invalid", 422), ((string?)status["kind"], (string?)status["status"], (string?)status["reason"], (int?)status["code"]));
            Assert.Contains("Deployment.apps \"web\" is invalid: spec.selector: Invalid value:", (string?)status["message"]);
            Assert.Contains("field is immutable", (string?)status["message"]);
            var cause = Assert.Single(status["details"]!["causes"]!.AsArray())!;
            Assert.Equal(("spec.selector", "FieldValueInvalid"), ((string?)cause["field"], (string?)cause["reason"]));
        }
        var live = fixture.Api.Store.Get(KubeResources.Deployments, ns, "web")!;
        Assert.Equal("web", (string?)live["spec"]!["selector"]!["matchLabels"]!["app"]);
    }

    [Fact]
    public async Task StatefulSet_claims_roleRef_and_Job_templates_refuse_the_changes_the_real_server_refuses()
    {
        var ns = await fixture.NewNamespaceAsync();
        JsonObject StatefulSet(string serviceName, string size) => new()
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "StatefulSet",
            ["metadata"] = new JsonObject { ["name"] = "db" },
            ["spec"] = new JsonObject
            {
                ["serviceName"] = serviceName,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "db" } },
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = "db" } },
                    ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "db", ["image"] = "postgres:16" }) },
                },
                ["volumeClaimTemplates"] = new JsonArray(new JsonObject
                {
                    ["metadata"] = new JsonObject { ["name"] = "data" },
                    ["spec"] = new JsonObject { ["accessModes"] = new JsonArray("ReadWriteOnce"), ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["storage"] = size } } },
                }),
            },
        };
        var sts = $"apis/apps/v1/namespaces/{ns}/statefulsets/db";
        await ApplyAsync(sts, StatefulSet("db", "5Gi"));
        foreach (var changed in new[] { StatefulSet("db-headless", "5Gi"), StatefulSet("db", "10Gi") })
        {
            var cause = Status(await RefusedAsync(() => ApplyAsync(sts, changed, dryRun: true)))["details"]!["causes"]![0]!;
            Assert.Equal(("spec", "FieldValueForbidden"), ((string?)cause["field"], (string?)cause["reason"]));
            Assert.Contains("updates to statefulset spec for fields other than", (string?)cause["message"]);
        }

        JsonObject Claim(string storageClass, string size) => new()
        {
            ["apiVersion"] = "v1",
            ["kind"] = "PersistentVolumeClaim",
            ["metadata"] = new JsonObject { ["name"] = "data" },
            ["spec"] = new JsonObject
            {
                ["storageClassName"] = storageClass,
                ["accessModes"] = new JsonArray("ReadWriteOnce"),
                ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["storage"] = size } },
            },
        };
        var pvc = $"api/v1/namespaces/{ns}/persistentvolumeclaims/data";
        await ApplyAsync(pvc, Claim("gp3", "5Gi"));
        var storageClass = Status(await RefusedAsync(() => ApplyAsync(pvc, Claim("standard", "5Gi"))))["details"]!["causes"]![0]!;
        Assert.Equal("spec", (string?)storageClass["field"]);
        Assert.Contains("spec is immutable after creation", (string?)storageClass["message"]);
        var shrink = Status(await RefusedAsync(() => ApplyAsync(pvc, Claim("gp3", "4Gi"))))["details"]!["causes"]![0]!;
        Assert.Equal(("spec.resources.requests.storage", "Forbidden: field can not be less than previous value"), ((string?)shrink["field"], (string?)shrink["message"]));
        var grown = await ApplyAsync(pvc, Claim("gp3", "5120Mi"));
        Assert.Equal("5120Mi", (string?)grown["spec"]!["resources"]!["requests"]!["storage"]);

        JsonObject Binding(string role) => new()
        {
            ["apiVersion"] = "rbac.authorization.k8s.io/v1",
            ["kind"] = "RoleBinding",
            ["metadata"] = new JsonObject { ["name"] = "readers" },
            ["roleRef"] = new JsonObject { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = "Role", ["name"] = role },
            ["subjects"] = new JsonArray(new JsonObject { ["kind"] = "Group", ["name"] = "readers" }),
        };
        var binding = $"apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/readers";
        await ApplyAsync(binding, Binding("reader"));
        var roleRef = Status(await RefusedAsync(() => ApplyAsync(binding, Binding("admin"))));
        Assert.Contains("RoleBinding.rbac.authorization.k8s.io \"readers\" is invalid: roleRef: Invalid value:", (string?)roleRef["message"]);
        Assert.Contains("cannot change roleRef", (string?)roleRef["message"]);

        JsonObject Job(string image) => new()
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["metadata"] = new JsonObject { ["name"] = "migrate" },
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject { ["spec"] = new JsonObject { ["restartPolicy"] = "Never", ["containers"] = new JsonArray(new JsonObject { ["name"] = "m", ["image"] = image }) } },
            },
        };
        var job = $"apis/batch/v1/namespaces/{ns}/jobs/migrate";
        await ApplyAsync(job, Job("app:1"));
        var template = Status(await RefusedAsync(() => ApplyAsync(job, Job("app:2"))))["details"]!["causes"]![0]!;
        Assert.Equal("spec.template", (string?)template["field"]);
    }

    [Fact]
    public async Task Server_side_apply_removes_an_env_variable_its_manager_stopped_applying_unless_another_manager_owns_it()
    {
        var ns = await fixture.NewNamespaceAsync();
        var path = $"apis/apps/v1/namespaces/{ns}/deployments/web";
        await ApplyAsync(path, Deployment(ns, "web", "web", ("KEEP", "1"), ("DROP", "2")));
        var applied = await ApplyAsync(path, Deployment(ns, "web", "web", ("KEEP", "1")));
        Assert.Equal(["KEEP"], Env(applied));

        // Client-side apply (an Update with the same value) co-owns the variable: dropping it from the apply keeps it.
        var other = $"apis/apps/v1/namespaces/{ns}/deployments/shared";
        fixture.Api.SeedAsKubectlApply(Deployment(ns, "shared", "shared", ("KEEP", "1"), ("LEGACY", "2")));
        await ApplyAsync(other, Deployment(ns, "shared", "shared", ("KEEP", "1"), ("LEGACY", "2")));
        var kept = await ApplyAsync(other, Deployment(ns, "shared", "shared", ("KEEP", "1")));
        Assert.Equal(["KEEP", "LEGACY"], Env(kept));
    }

    [Fact]
    public async Task An_object_seeded_as_kubectl_apply_leaves_it_carries_the_manifest_and_client_side_field_ownership()
    {
        var ns = await fixture.NewNamespaceAsync();
        var manifest = Deployment(ns, "legacy", "legacy", ("A", "1"));
        var seeded = fixture.Api.SeedAsKubectlApply(manifest);

        var live = await _client.AppsV1.ReadNamespacedDeploymentAsync("legacy", ns, cancellationToken: Ct);
        Assert.Equal(JsonNode.Parse(manifest.ToJsonString())!.ToJsonString(), JsonNode.Parse(live.Metadata.Annotations[FakeKubeApi.LastAppliedAnnotation])!.ToJsonString());
        var entry = Assert.Single(live.Metadata.ManagedFields);
        Assert.Equal((FakeKubeApi.ClientSideApplyManager, "Update", "apps/v1"), (entry.Manager, entry.Operation, entry.ApiVersion));
        var fields = JsonNode.Parse(KubernetesJson.Serialize(entry.FieldsV1))!;
        Assert.NotNull(fields["f:metadata"]!["f:annotations"]!["f:" + FakeKubeApi.LastAppliedAnnotation]);
        Assert.NotNull(fields["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"app\"}"]!["f:env"]!["k:{\"name\":\"A\"}"]);
        // Defaults are the creator's too, as on the real server.
        Assert.NotNull(fields["f:spec"]!["f:progressDeadlineSeconds"]);
        Assert.NotNull(seeded["metadata"]!["uid"]);
    }

    [Fact]
    public async Task A_json_patch_rewrites_managed_fields_only_with_the_current_resource_version()
    {
        var ns = await fixture.NewNamespaceAsync();
        // Controllers write status (a new resourceVersion) while a rollout goes on; held still, the version read stays current.
        fixture.Api.Simulation.ControllersPaused = true;
        try
        {
            await MoveOwnershipAsync(ns);
        }
        finally
        {
            fixture.Api.Simulation.ControllersPaused = false;
        }
    }

    private async Task MoveOwnershipAsync(string ns)
    {
        var live = fixture.Api.SeedAsKubectlApply(Deployment(ns, "web", "web", ("A", "1")));
        var entries = live["metadata"]!["managedFields"]!.AsArray().DeepClone().AsArray();
        entries[0]!["manager"] = "tesslate-build";
        entries[0]!["operation"] = "Apply";
        string Patch(string resourceVersion) => new JsonArray(
            new JsonObject { ["op"] = "replace", ["path"] = "/metadata/managedFields", ["value"] = entries.DeepClone() },
            new JsonObject { ["op"] = "replace", ["path"] = "/metadata/resourceVersion", ["value"] = resourceVersion }).ToJsonString();
        var path = $"apis/apps/v1/namespaces/{ns}/deployments/web";

        var stale = await RefusedAsync(() => SendAsync(HttpMethod.Patch, path + "?fieldManager=tesslate-build", Patch("1"), "application/json-patch+json"));
        Assert.Equal(HttpStatusCode.Conflict, stale.Status);

        var moved = await SendAsync(HttpMethod.Patch, path + "?fieldManager=tesslate-build", Patch((string)live["metadata"]!["resourceVersion"]!), "application/json-patch+json");
        var manager = Assert.Single(moved["metadata"]!["managedFields"]!.AsArray())!;
        Assert.Equal(("tesslate-build", "Apply"), ((string?)manager["manager"], (string?)manager["operation"]));
        Assert.Equal(live["spec"]!.ToJsonString(), moved["spec"]!.ToJsonString());

        // Now the apply owns what client-side apply set: leaving a variable out removes it, and the annotation goes too.
        var applied = await ApplyAsync(path, Deployment(ns, "web", "web"));
        Assert.Empty(Env(applied));
        Assert.Null(applied["metadata"]!["annotations"]?[FakeKubeApi.LastAppliedAnnotation]);
    }

    private static List<string> Env(JsonObject deployment) =>
        [.. (deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]?.AsArray() ?? []).Select(e => (string)e!["name"]!).Order()];
}
