using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace Tesslate.Build.Tests.Fakes;

public sealed class FakeKubeApiStoreTests(FakeKubeApiFixture fixture) : IClassFixture<FakeKubeApiFixture>
{
    private readonly IKubernetes _client = fixture.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static V1Status Status(HttpOperationException e) => KubernetesJson.Deserialize<V1Status>(e.Response.Content);

    private static V1ConfigMap ConfigMap(string name, Dictionary<string, string>? labels = null, string value = "v") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        Data = new Dictionary<string, string> { ["k"] = value },
    };

    [Fact]
    public async Task Discovery_lists_groups_and_resources_and_unknown_groups_are_not_found()
    {
        var core = await _client.CoreV1.GetAPIResourcesAsync(Ct);
        Assert.Contains(core.Resources, r => r.Name == "pods" && r.Namespaced && r.Kind == "Pod");
        Assert.Contains(core.Resources, r => r.Name == "pods/exec");

        var groups = await _client.Apis.GetAPIVersionsAsync(Ct);
        Assert.Contains(groups.Groups, g => g.Name == "cert-manager.io");
        Assert.Contains(groups.Groups, g => g.Name == "snapshot.storage.k8s.io");

        var apps = await _client.AppsV1.GetAPIResourcesAsync(Ct);
        Assert.Equal(["daemonsets", "deployments", "replicasets", "statefulsets"], apps.Resources.Where(r => !r.Name.Contains('/')).Select(r => r.Name).Order());

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "x");
        var unknown = await http.GetAsync($"{fixture.Api.Url}/apis/monitoring.coreos.com/v1", Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var unknownKind = await http.GetAsync($"{fixture.Api.Url}/apis/apps/v1/namespaces/default/widgets", Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknownKind.StatusCode);
    }

    [Fact]
    public async Task Requests_without_a_bearer_token_are_unauthorized()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync($"{fixture.Api.Url}/api/v1/namespaces", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Create_get_and_list_with_equality_and_set_based_label_selectors()
    {
        var ns = await fixture.NewNamespaceAsync();
        await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", new() { ["app"] = "web", ["tier"] = "front" }), ns, cancellationToken: Ct);
        await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", new() { ["app"] = "api" }), ns, cancellationToken: Ct);
        await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), ns, cancellationToken: Ct);

        var a = await _client.CoreV1.ReadNamespacedConfigMapAsync("a", ns, cancellationToken: Ct);
        Assert.False(string.IsNullOrEmpty(a.Metadata.Uid));
        Assert.NotNull(a.Metadata.CreationTimestamp);
        Assert.False(string.IsNullOrEmpty(a.Metadata.ResourceVersion));

        async Task<string[]> Names(string selector) =>
            (await _client.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: selector, cancellationToken: Ct)).Items.Select(i => i.Metadata.Name).Order().ToArray();

        Assert.Equal(["a"], await Names("app=web"));
        Assert.Equal(["a", "b"], await Names("app in (web,api)"));
        Assert.Equal(["b", "c"], await Names("app notin (web)"));
        Assert.Equal(["a", "b"], await Names("app"));
        Assert.Equal(["c"], await Names("!app"));
        Assert.Equal(["a"], await Names("app!=api,tier=front"));

        var duplicate = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), ns, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Response.StatusCode);
        var missingNamespace = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), "nope", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, missingNamespace.Response.StatusCode);
        Assert.Equal("namespaces \"nope\" not found", Status(missingNamespace).Message);
    }

    [Fact]
    public async Task Update_with_a_stale_resource_version_conflicts_and_every_change_bumps_it()
    {
        var ns = await fixture.NewNamespaceAsync();
        var created = await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm"), ns, cancellationToken: Ct);
        created.Data["k"] = "second";
        var updated = await _client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "cm", ns, cancellationToken: Ct);
        Assert.NotEqual(created.Metadata.ResourceVersion, updated.Metadata.ResourceVersion);

        created.Data["k"] = "stale";
        var stale = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "cm", ns, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Conflict, stale.Response.StatusCode);
        Assert.Contains("the object has been modified", Status(stale).Message);

        await _client.CoreV1.DeleteNamespacedConfigMapAsync("cm", ns, cancellationToken: Ct);
        var gone = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedConfigMapAsync("cm", ns, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, gone.Response.StatusCode);
    }

    [Fact]
    public async Task Lease_update_on_a_stale_resource_version_is_rejected()
    {
        var ns = await fixture.NewNamespaceAsync();
        var lease = await _client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "tesslate-deploy" },
            Spec = new V1LeaseSpec { HolderIdentity = "laptop-a", LeaseDurationSeconds = 60 },
        }, ns, cancellationToken: Ct);

        var first = await _client.CoordinationV1.ReadNamespacedLeaseAsync("tesslate-deploy", ns, cancellationToken: Ct);
        var second = await _client.CoordinationV1.ReadNamespacedLeaseAsync("tesslate-deploy", ns, cancellationToken: Ct);
        first.Spec.HolderIdentity = "ci-run-1";
        await _client.CoordinationV1.ReplaceNamespacedLeaseAsync(first, "tesslate-deploy", ns, cancellationToken: Ct);
        second.Spec.HolderIdentity = "laptop-b";
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoordinationV1.ReplaceNamespacedLeaseAsync(second, "tesslate-deploy", ns, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Equal("ci-run-1", (await _client.CoordinationV1.ReadNamespacedLeaseAsync("tesslate-deploy", ns, cancellationToken: Ct)).Spec.HolderIdentity);
        Assert.NotEqual(lease.Metadata.ResourceVersion, first.Metadata.ResourceVersion + "x");
    }

    [Fact]
    public async Task Watch_from_a_resource_version_streams_later_changes_only()
    {
        var ns = await fixture.NewNamespaceAsync();
        await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("before"), ns, cancellationToken: Ct);
        var list = await _client.CoreV1.ListNamespacedConfigMapAsync(ns, cancellationToken: Ct);
        await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("after"), ns, cancellationToken: Ct);
        await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"k\":\"changed\"}}", V1Patch.PatchType.MergePatch), "after", ns, cancellationToken: Ct);
        await _client.CoreV1.DeleteNamespacedConfigMapAsync("after", ns, cancellationToken: Ct);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        var seen = new List<(WatchEventType, string, string?)>();
        await foreach (var (type, cm) in _client.CoreV1.WatchListNamespacedConfigMapAsync(ns, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cts.Token))
        {
            seen.Add((type, cm.Metadata.Name, cm.Data?["k"]));
            if (seen.Count == 3)
            {
                break;
            }
        }

        Assert.Equal([(WatchEventType.Added, "after", "v"), (WatchEventType.Modified, "after", "changed"), (WatchEventType.Deleted, "after", "changed")], seen);
    }

    [Fact]
    public async Task Server_side_apply_records_managers_conflicts_on_foreign_fields_and_takes_them_with_force()
    {
        var ns = await fixture.NewNamespaceAsync();
        // KubernetesClient sends apply bodies as JSON (V1Patch writes raw JSON); the fake also takes YAML (see below).
        const string manifest = """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
               "template":{"metadata":{"labels":{"app":"web"}},
                 "spec":{"containers":[{"name":"app","image":"registry.local/web@sha256:1111111111111111111111111111111111111111111111111111111111111111"}]}}}}
            """;
        var created = await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(manifest, V1Patch.PatchType.ApplyPatch), "web", ns, fieldManager: "tesslate-build", cancellationToken: Ct);
        Assert.Equal(1, created.Metadata.Generation);
        Assert.Contains(created.Metadata.ManagedFields, m => m.Manager == "tesslate-build" && m.Operation == "Apply");

        var again = await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(manifest, V1Patch.PatchType.ApplyPatch), "web", ns, fieldManager: "tesslate-build", cancellationToken: Ct);
        Assert.Equal(1, again.Metadata.Generation);

        // Another manager (kubectl scale, an HPA) takes spec.replicas with an update.
        await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("{\"spec\":{\"replicas\":5}}", V1Patch.PatchType.MergePatch), "web", ns, fieldManager: "kubectl-scale", cancellationToken: Ct);
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(manifest, V1Patch.PatchType.ApplyPatch), "web", ns, fieldManager: "tesslate-build", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Contains("conflict with \"kubectl-scale\"", Status(conflict).Message);
        Assert.Contains(".spec.replicas", conflict.Response.Content);

        var forced = await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(manifest, V1Patch.PatchType.ApplyPatch), "web", ns, fieldManager: "tesslate-build", force: true, cancellationToken: Ct);
        Assert.Equal(2, forced.Spec.Replicas);
        Assert.DoesNotContain(forced.Metadata.ManagedFields, m => m.Manager == "kubectl-scale");
        Assert.Equal(3, forced.Metadata.Generation);

        var noManager = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(manifest, V1Patch.PatchType.ApplyPatch), "web", ns, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.BadRequest, noManager.Response.StatusCode);
    }

    [Fact]
    public async Task Server_side_apply_removes_fields_its_manager_stopped_setting_and_dry_run_stores_nothing()
    {
        var ns = await fixture.NewNamespaceAsync();
        var first = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","labels":{"a":"1","b":"2"}},"data":{"x":"1","y":"2"}}""";
        var second = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","labels":{"a":"1"}},"data":{"x":"1"}}""";
        var original = await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(first, V1Patch.PatchType.ApplyPatch), "cfg", ns, fieldManager: "m", cancellationToken: Ct);
        var unchanged = await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(first, V1Patch.PatchType.ApplyPatch), "cfg", ns, fieldManager: "m", cancellationToken: Ct);
        Assert.Equal(original.Metadata.ResourceVersion, unchanged.Metadata.ResourceVersion);

        var dry = await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(second, V1Patch.PatchType.ApplyPatch), "cfg", ns, fieldManager: "m", dryRun: "All", cancellationToken: Ct);
        Assert.Equal(["x"], dry.Data.Keys);
        Assert.Equal(["x", "y"], (await _client.CoreV1.ReadNamespacedConfigMapAsync("cfg", ns, cancellationToken: Ct)).Data.Keys.Order());

        var applied = await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(second, V1Patch.PatchType.ApplyPatch), "cfg", ns, fieldManager: "m", cancellationToken: Ct);
        Assert.Equal(["x"], applied.Data.Keys);
        Assert.Equal(["a"], applied.Metadata.Labels.Keys);

        var dryCreate = await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(first.Replace("\"cfg\"", "\"new\""), V1Patch.PatchType.ApplyPatch), "new", ns, fieldManager: "m", dryRun: "All", cancellationToken: Ct);
        Assert.Equal("new", dryCreate.Metadata.Name);
        var notStored = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedConfigMapAsync("new", ns, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, notStored.Response.StatusCode);
    }

    [Fact]
    public async Task Strategic_merge_patch_merges_containers_env_ports_and_volumes_by_key()
    {
        var ns = await fixture.NewNamespaceAsync();
        var deployment = new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "api" },
            Spec = new V1DeploymentSpec
            {
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "api" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "api" } },
                    Spec = new V1PodSpec
                    {
                        InitContainers = [new V1Container { Name = "migrate", Image = "api:1" }],
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "app", Image = "api:1",
                                Env = [new V1EnvVar { Name = "A", Value = "1" }, new V1EnvVar { Name = "B", Value = "2" }],
                                Ports = [new V1ContainerPort { ContainerPort = 8000, Name = "http" }],
                            },
                            new V1Container { Name = "sidecar", Image = "proxy:1" },
                        ],
                        Volumes = [new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() }],
                    },
                },
            },
        };
        var created = await _client.AppsV1.CreateNamespacedDeploymentAsync(deployment, ns, cancellationToken: Ct);
        const string patch = """
            {"spec":{"template":{"spec":{
              "initContainers":[{"name":"migrate","image":"api:2"}],
              "containers":[{"name":"app","image":"api:2","env":[{"name":"B","value":"two"},{"name":"C","value":"3"}],"ports":[{"containerPort":9000,"name":"metrics"}]}],
              "volumes":[{"name":"cache","emptyDir":{}}]}}}}
            """;
        var patched = await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch, V1Patch.PatchType.StrategicMergePatch), "api", ns, cancellationToken: Ct);
        var spec = patched.Spec.Template.Spec;
        Assert.Equal(["app", "sidecar"], spec.Containers.Select(c => c.Name));
        Assert.Equal("api:2", spec.Containers[0].Image);
        Assert.Equal("proxy:1", spec.Containers[1].Image);
        Assert.Equal(["A=1", "B=two", "C=3"], spec.Containers[0].Env.Select(e => $"{e.Name}={e.Value}"));
        Assert.Equal([8000, 9000], spec.Containers[0].Ports.Select(p => p.ContainerPort));
        Assert.Equal("api:2", spec.InitContainers.Single().Image);
        Assert.Equal(["data", "cache"], spec.Volumes.Select(v => v.Name));
        Assert.Equal(created.Metadata.Generation + 1, patched.Metadata.Generation);

        var deletePatch = """{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}""";
        var deleted = await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(deletePatch, V1Patch.PatchType.StrategicMergePatch), "api", ns, cancellationToken: Ct);
        Assert.Equal(["app"], deleted.Spec.Template.Spec.Containers.Select(c => c.Name));

        var labelsOnly = await _client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"metadata":{"labels":{"x":"y"}}}""", V1Patch.PatchType.MergePatch), "api", ns, cancellationToken: Ct);
        Assert.Equal(deleted.Metadata.Generation, labelsOnly.Metadata.Generation);
    }

    [Fact]
    public async Task Self_subject_access_review_answers_configured_denials_and_the_request_itself_is_forbidden()
    {
        var ns = await fixture.NewNamespaceAsync("ssar");
        fixture.Api.Access.Deny("patch", "clusterroles", group: "rbac.authorization.k8s.io");
        fixture.Api.Access.Deny("create", "secrets", ns);

        async Task<bool> Allowed(string verb, string group, string resource, string? @namespace) =>
            (await _client.AuthorizationV1.CreateSelfSubjectAccessReviewAsync(new V1SelfSubjectAccessReview
            {
                Spec = new V1SelfSubjectAccessReviewSpec
                {
                    ResourceAttributes = new V1ResourceAttributes { Verb = verb, Group = group, Resource = resource, NamespaceProperty = @namespace },
                },
            }, cancellationToken: Ct)).Status.Allowed;

        Assert.False(await Allowed("patch", "rbac.authorization.k8s.io", "clusterroles", null));
        Assert.False(await Allowed("create", "", "secrets", ns));
        Assert.True(await Allowed("create", "", "secrets", "default"));
        Assert.True(await Allowed("patch", "apps", "deployments", ns));

        var forbidden = await Assert.ThrowsAsync<HttpOperationException>(() =>
            _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" } }, ns, cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.Response.StatusCode);
        Assert.Contains("cannot create resource \"secrets\"", Status(forbidden).Message);
    }

    [Fact]
    public async Task Seeded_objects_and_the_request_log_are_visible_to_tests()
    {
        var ns = await fixture.NewNamespaceAsync();
        fixture.Api.Seed(new JsonObject
        {
            ["apiVersion"] = "cert-manager.io/v1",
            ["kind"] = "Certificate",
            ["metadata"] = new JsonObject { ["name"] = "tls", ["namespace"] = ns },
            ["spec"] = new JsonObject { ["secretName"] = "tls" },
        });
        var list = await _client.CustomObjects.ListNamespacedCustomObjectAsync<JsonElementList>("cert-manager.io", "v1", ns, "certificates", cancellationToken: Ct);
        Assert.Single(list.Items);
        Assert.Contains(fixture.Api.Requests, r => r.Method == "GET" && r.Path == $"/apis/cert-manager.io/v1/namespaces/{ns}/certificates");
    }

    [Fact]
    public async Task Apply_accepts_a_yaml_body()
    {
        var ns = await fixture.NewNamespaceAsync();
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "x");
        const string yaml = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: from-yaml
            data:
              port: "8080"
              enabled: "true"
            """;
        using var content = new StringContent(yaml, System.Text.Encoding.UTF8, "application/apply-patch+yaml");
        var response = await http.PatchAsync($"{fixture.Api.Url}/api/v1/namespaces/{ns}/configmaps/from-yaml?fieldManager=kubectl", content, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var cm = await _client.CoreV1.ReadNamespacedConfigMapAsync("from-yaml", ns, cancellationToken: Ct);
        Assert.Equal("8080", cm.Data["port"]);
        Assert.Equal("true", cm.Data["enabled"]);
    }

    private sealed record JsonElementList(List<System.Text.Json.JsonElement> Items);
}
