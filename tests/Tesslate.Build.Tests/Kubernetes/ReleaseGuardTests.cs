using System.Net;
using System.Text.Json.Nodes;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

/// <summary>The release guard's judgements and the takeover's managedFields rewrite, fed with plain objects.</summary>
public sealed class ReleaseGuardTests
{
    private static readonly ObjectRef Postgres = new("Deployment", "tesslate", "postgres");

    private static JsonObject Workload(string kind, params (string Volume, JsonObject Source, string MountPath)[] volumes) => new()
    {
        ["apiVersion"] = "apps/v1",
        ["kind"] = kind,
        ["metadata"] = new JsonObject { ["name"] = "postgres", ["namespace"] = "tesslate" },
        ["spec"] = new JsonObject
        {
            ["template"] = new JsonObject
            {
                ["spec"] = new JsonObject
                {
                    ["containers"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "postgres",
                        ["image"] = "postgres:16",
                        ["volumeMounts"] = new JsonArray([.. volumes.Select(v => (JsonNode)new JsonObject { ["name"] = v.Volume, ["mountPath"] = v.MountPath })]),
                    }),
                    ["volumes"] = new JsonArray([.. volumes.Select(v =>
                    {
                        var volume = (JsonObject)v.Source.DeepClone();
                        volume["name"] = v.Volume;
                        return (JsonNode)volume;
                    })]),
                },
            },
        },
    };

    private static JsonObject Claim(string name) => new() { ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = name } };

    private static JsonObject HostPath(string path) => new() { ["hostPath"] = new JsonObject { ["path"] = path } };

    private static JsonObject Scratch() => new() { ["emptyDir"] = new JsonObject() };

    [Fact]
    public void A_swapped_claim_a_host_path_no_longer_mounted_and_a_grown_claim_are_volume_changes()
    {
        var live = Workload("Deployment", ("data", Claim("postgres-pvc"), "/var/lib/postgresql/data"), ("pool", HostPath("/mnt/pool"), "/mnt/pool"), ("tmp", Scratch(), "/tmp"));
        var next = Workload("Deployment", ("data", Claim("postgres-data"), "/var/lib/postgresql/data"), ("tmp", Scratch(), "/scratch"));

        var changes = ReleaseGuard.VolumeChanges(Postgres, live, next);

        Assert.Equal(2, changes.Count);
        var swap = changes.Single(c => c.Kind == VolumeChangeKind.Swapped);
        Assert.Equal(("container postgres at /var/lib/postgresql/data", "PVC postgres-pvc", "PVC postgres-data"), (swap.Where, swap.Live, swap.New));
        Assert.Equal("Deployment/tesslate/postgres container postgres at /mnt/pool: host path /mnt/pool no longer mounted", changes.Single(c => c.Kind == VolumeChangeKind.Removed).ToString());
        Assert.Empty(ReleaseGuard.VolumeChanges(Postgres, live, live));

        JsonObject Pvc(string size) => new() { ["kind"] = "PersistentVolumeClaim", ["spec"] = new JsonObject { ["resources"] = new JsonObject { ["requests"] = new JsonObject { ["storage"] = size } } } };
        var claim = new ObjectRef("PersistentVolumeClaim", "tesslate", "marketplace-data");
        var grown = Assert.Single(ReleaseGuard.VolumeChanges(claim, Pvc("5Gi"), Pvc("10Gi")));
        Assert.Equal((VolumeChangeKind.Grown, "5Gi", "10Gi"), (grown.Kind, grown.Live, grown.New));
        Assert.Empty(ReleaseGuard.VolumeChanges(claim, Pvc("5Gi"), Pvc("5120Mi")));
    }

    [Fact]
    public void A_StatefulSet_spec_refusal_names_the_fields_that_differ_with_live_and_new_values_and_the_fix()
    {
        JsonObject StatefulSet(string serviceName) => new()
        {
            ["kind"] = "StatefulSet",
            ["spec"] = new JsonObject { ["serviceName"] = serviceName, ["replicas"] = 1, ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "db" } } },
        };
        var live = StatefulSet("postgres");
        live["spec"]!["podManagementPolicy"] = "OrderedReady"; // a server default the manifest does not state
        var refused = new AppliedObject(new ObjectRef("StatefulSet", "tesslate", "db"), ApplyOutcome.Refused, false, [])
        {
            Live = live,
            Desired = StatefulSet("postgres-headless"),
            Refusal = new KubeApiException(HttpStatusCode.UnprocessableEntity, "PATCH", "x", "StatefulSet.apps \"db\" is invalid: spec: Forbidden: …",
                [new StatusCause("spec", "FieldValueForbidden", "Forbidden: updates to statefulset spec for fields other than … are forbidden")]),
        };

        var change = Assert.Single(ReleaseGuard.Refusals(refused));

        Assert.Equal(("spec.serviceName", "postgres", "postgres-headless"), (change.Field, change.Live, change.New));
        Assert.Contains("keep the live spec.serviceName", change.Fix);
    }

    [Fact]
    public void A_selector_refusal_shows_both_selectors_and_a_report_blocks_with_every_problem_named()
    {
        JsonObject Deployment(string app) => new() { ["kind"] = "Deployment", ["spec"] = new JsonObject { ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = app } } } };
        var redis = new ObjectRef("Deployment", "tesslate", "redis");
        var refused = new AppliedObject(redis, ApplyOutcome.Refused, false, [])
        {
            Live = Deployment("redis"),
            Desired = Deployment("cache"),
            Refusal = new KubeApiException(HttpStatusCode.UnprocessableEntity, "PATCH", "x", "invalid", [new StatusCause("spec.selector", "FieldValueInvalid", "Invalid value: …: field is immutable")]),
        };
        var swapped = new AppliedObject(Postgres, ApplyOutcome.Configured, false, [])
        {
            Live = Workload("Deployment", ("data", Claim("postgres-pvc"), "/data")),
            Result = Workload("Deployment", ("data", Claim("postgres-data"), "/data")),
        };

        var report = ReleaseGuard.Judge(new ApplyReport([refused, swapped], DryRun: true), []);

        Assert.True(report.Blocking);
        var selector = Assert.Single(report.Refusals);
        Assert.Equal(("spec.selector", """{"matchLabels":{"app":"redis"}}""", """{"matchLabels":{"app":"cache"}}"""), (selector.Field, selector.Live, selector.New));
        var failure = ReleaseProblems.GuardFailure(report)!;
        Assert.Contains("Deployment/tesslate/redis spec.selector", failure.Problem);
        Assert.Contains("Deployment/tesslate/postgres container postgres at /data: PVC postgres-pvc → PVC postgres-data", failure.Problem);
        Assert.Contains("--allow-volume-change Deployment/postgres", failure.Fix);

        var allowed = ReleaseGuard.Judge(new ApplyReport([swapped], DryRun: true), [ReleaseProblems.Allowance("deployment/postgres")]);
        Assert.False(allowed.Blocking);
        Assert.Null(ReleaseProblems.GuardFailure(allowed));
        Assert.Single(allowed.AllowedVolumeChanges);
        Assert.Contains(ReleaseProblems.GuardRows(allowed), r => r.Label == "volume" && r.Text.EndsWith("(allowed by --allow-volume-change deployment/postgres)", StringComparison.Ordinal));
        Assert.Empty(allowed.UnusedAllowances);
        Assert.Single(ReleaseGuard.Judge(new ApplyReport([swapped], DryRun: true), [ReleaseProblems.Allowance("Deployment/redis")]).UnusedAllowances);
    }

    [Fact]
    public void After_a_takeover_the_manifest_alone_decides_which_volumes_stay()
    {
        // The dry run still shows the volume (the client-side manager owns it until the move); the manifest drops it.
        var takeover = new AppliedObject(Postgres, ApplyOutcome.Configured, false, [])
        {
            Live = Workload("Deployment", ("data", Claim("redis-data"), "/data")),
            Result = Workload("Deployment", ("data", Claim("redis-data"), "/data")),
            Desired = Workload("Deployment"),
            TakenOverFrom = ["kubectl-client-side-apply"],
        };

        var report = ReleaseGuard.Judge(new ApplyReport([takeover], DryRun: true), []);

        Assert.Equal(VolumeChangeKind.Removed, Assert.Single(report.VolumeChanges).Kind);
        Assert.Single(report.Takeovers);
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("Deployment/")]
    [InlineData("a/b/c/d")]
    public void An_allowance_that_names_no_object_is_a_usage_error(string text)
    {
        Assert.Null(VolumeAllowance.TryParse(text));
        // The platform layer words the error in the pipeline's flag.
        var error = Assert.Throws<UsageException>(() => ReleaseProblems.Allowance(text));
        Assert.Equal($"--allow-volume-change '{text}' does not name an object.", error.Problem);
        Assert.Equal("Name it as Kind/name (or Kind/namespace/name), as the release plan prints it, e.g. --allow-volume-change Deployment/postgres.", error.Fix);
    }

    private static JsonObject Entry(string manager, string operation, JsonObject fields, string? subresource = null)
    {
        var entry = new JsonObject { ["manager"] = manager, ["operation"] = operation, ["apiVersion"] = "apps/v1", ["fieldsType"] = "FieldsV1", ["fieldsV1"] = fields };
        if (subresource is not null)
            entry["subresource"] = subresource;
        return entry;
    }

    private static JsonObject Fields(string json) => JsonNode.Parse(json)!.AsObject();

    private const string ClientSideFields = """{"f:metadata":{"f:annotations":{"f:kubectl.kubernetes.io/last-applied-configuration":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:env":{"k:{\"name\":\"OLD\"}":{".":{},"f:name":{},"f:value":{}}}}}}}}}""";

    [Fact]
    public void The_takeover_unites_the_client_side_fields_into_the_apply_entry_and_drops_the_update_entry()
    {
        var live = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["annotations"] = new JsonObject { [ClientSideApplyTakeover.LastAppliedAnnotation] = "{}" },
                ["managedFields"] = new JsonArray(
                    Entry("tesslate-build", "Apply", Fields("""{"f:spec":{"f:selector":{}}}""")),
                    Entry("kubectl-client-side-apply", "Update", Fields(ClientSideFields)),
                    Entry("kube-controller-manager", "Update", Fields("""{"f:status":{"f:replicas":{}}}"""), "status")),
            },
        };

        Assert.Equal(["kubectl-client-side-apply"], ClientSideApplyTakeover.ClientSideManagers(live));
        var upgraded = ClientSideApplyTakeover.Upgrade((JsonArray)live["metadata"]!["managedFields"]!, ["kubectl-client-side-apply"], "tesslate-build")!;

        Assert.Equal(2, upgraded.Count);
        var apply = upgraded[0]!;
        Assert.Equal(("tesslate-build", "Apply"), ((string?)apply["manager"], (string?)apply["operation"]));
        Assert.NotNull(apply["fieldsV1"]!["f:spec"]!["f:selector"]);
        Assert.NotNull(apply["fieldsV1"]!["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"app\"}"]!["f:env"]!["k:{\"name\":\"OLD\"}"]);
        Assert.Equal("kube-controller-manager", (string?)upgraded[1]!["manager"]);
        // Once moved, there is nothing left to move.
        Assert.Null(ClientSideApplyTakeover.Upgrade(upgraded, ["kubectl-client-side-apply"], "tesslate-build"));
    }

    [Fact]
    public void Without_an_apply_entry_the_client_side_entry_becomes_it_and_without_the_annotation_nothing_is_taken_over()
    {
        var fields = new JsonArray(Entry("kubectl-client-side-apply", "Update", Fields(ClientSideFields)));
        var upgraded = Assert.Single(ClientSideApplyTakeover.Upgrade(fields, ["kubectl-client-side-apply"], "tesslate-build")!)!;
        Assert.Equal(("tesslate-build", "Apply", "apps/v1"), ((string?)upgraded["manager"], (string?)upgraded["operation"], (string?)upgraded["apiVersion"]));
        Assert.Equal(Fields(ClientSideFields).ToJsonString(), upgraded["fieldsV1"]!.ToJsonString());

        var noAnnotation = new JsonObject { ["metadata"] = new JsonObject { ["managedFields"] = fields.DeepClone() } };
        Assert.Empty(ClientSideApplyTakeover.ClientSideManagers(noAnnotation));
    }
}
