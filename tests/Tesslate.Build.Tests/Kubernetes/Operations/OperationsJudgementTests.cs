using System.Text.Json.Nodes;
using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Kubernetes.Operations;
using Tesslate.Build.Platform;
using Tesslate.Build.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Operations;

/// <summary>The pure judgements behind the operations targets, fed with plain objects.</summary>
public sealed class OperationsJudgementTests
{
    private static readonly ObjectRef[] Rendered =
    [
        new("Deployment", "tesslate", "tesslate-backend"), new("Deployment", "tesslate", "tesslate-gateway"),
        new("Deployment", "tesslate", "tesslate-automations-controller"), new("Deployment", "tesslate", "opensail-runtime"),
        new("Deployment", "tesslate", "tesslate-marketplace"), new("CronJob", "tesslate", "snapshot-cleanup"),
    ];

    [Theory]
    [InlineData("backend", "Deployment/tesslate/tesslate-backend")]
    [InlineData("frontend", "Deployment/tesslate/tesslate-frontend")]
    [InlineData("worker", "Deployment/tesslate/tesslate-worker")]
    [InlineData("litellm", "Deployment/tesslate/litellm")]
    [InlineData("redis", "Deployment/tesslate/redis")]
    [InlineData("pg", "Deployment/tesslate/postgres")]
    [InlineData("postgres", "Deployment/tesslate/postgres")]
    [InlineData("litellm-pg", "Deployment/tesslate/litellm-postgres")]
    [InlineData("litellm-postgres", "Deployment/tesslate/litellm-postgres")]
    [InlineData("volume-hub", "Deployment/kube-system/tesslate-volume-hub")]
    [InlineData("gateway", "Deployment/tesslate/tesslate-gateway")]
    [InlineData("tesslate-gateway", "Deployment/tesslate/tesslate-gateway")]
    [InlineData("automations-controller", "Deployment/tesslate/tesslate-automations-controller")]
    [InlineData("opensail-runtime", "Deployment/tesslate/opensail-runtime")]
    [InlineData("marketplace", "Deployment/tesslate/tesslate-marketplace")]
    public void Legacy_short_names_and_rendered_workload_names_resolve(string name, string expected) =>
        Assert.Equal(expected, Assert.Single(PlatformWorkloads.Resolve([name], Rendered)).ToString());

    [Fact]
    public void Names_resolve_once_each_in_the_order_given_and_accept_commas()
    {
        var resolved = PlatformWorkloads.Resolve(["worker,backend", "tesslate-backend", "pg", "postgres"], Rendered);
        Assert.Equal(["tesslate-worker", "tesslate-backend", "postgres"], resolved.Select(r => r.Name));
    }

    [Fact]
    public void An_unknown_name_is_a_usage_error_that_lists_what_exists()
    {
        var error = Assert.Throws<UsageException>(() => PlatformWorkloads.Resolve(["backend", "gatway"], Rendered));
        Assert.Contains("gatway", error.Message);
        Assert.Contains("gateway", error.Message);
        Assert.Contains("volume-hub", error.Message);
        Assert.DoesNotContain("snapshot-cleanup", error.Message);
    }

    [Fact]
    public void Reload_without_names_applies_and_restarts_backend_frontend_worker_and_needs_admin()
    {
        var plan = ReloadPlan.For([], Rendered);
        Assert.True(plan.ApplyManifests);
        Assert.False(plan.SyncLitellmConfig);
        Assert.Equal(["tesslate-backend", "tesslate-frontend", "tesslate-worker"], plan.Restarts.Select(r => r.Name));
        Assert.Equal(TeamRole.Admin, plan.LeastRole);
    }

    [Fact]
    public void A_restart_only_reload_in_tesslate_works_with_the_deployer_role()
    {
        var plan = ReloadPlan.For(["backend", "worker"], Rendered);
        Assert.False(plan.ApplyManifests);
        Assert.Equal(TeamRole.Deployer, plan.LeastRole);
        var permissions = plan.Permissions();
        Assert.Contains(new PermissionRequirement("patch", "apps", "deployments", "tesslate"), permissions);
        Assert.DoesNotContain(permissions, p => p.Resource == "configmaps" || p.Namespace == "kube-system");
    }

    [Fact]
    public void Litellm_syncs_its_config_map_first_and_volume_hub_restarts_in_kube_system_both_needing_admin()
    {
        var litellm = ReloadPlan.For(["litellm"], Rendered);
        Assert.True(litellm.SyncLitellmConfig);
        Assert.Equal(TeamRole.Admin, litellm.LeastRole);
        Assert.Contains(new PermissionRequirement("patch", "", "configmaps", "tesslate"), litellm.Permissions());
        var hub = ReloadPlan.For(["volume-hub", "backend"], Rendered);
        Assert.Equal(["tesslate-backend"], hub.PlatformRestarts.Select(r => r.Name));
        Assert.Equal(["tesslate-volume-hub"], hub.SystemRestarts.Select(r => r.Name));
        Assert.Equal(TeamRole.Admin, hub.LeastRole);
    }

    [Fact]
    public void Scale_rejects_negative_counts_missing_counts_and_missing_workloads_before_any_call()
    {
        Assert.Contains("negative", Assert.Throws<UsageException>(() => PlatformOperations.ValidateScale(["backend"], -1, Rendered)).Message);
        Assert.Contains("--replicas", Assert.Throws<UsageException>(() => PlatformOperations.ValidateScale(["backend"], null, Rendered)).Message);
        Assert.Contains("--workloads", Assert.Throws<UsageException>(() => PlatformOperations.ValidateScale([], 4, Rendered)).Message);
        Assert.Throws<UsageException>(() => PlatformOperations.ValidateScale(["nope"], 4, Rendered));
        Assert.Equal("tesslate-backend", Assert.Single(PlatformOperations.ValidateScale(["backend"], 4, Rendered)).Name);
    }

    [Fact]
    public void Alembic_multiple_heads_says_how_to_merge()
    {
        var output = new ExecResult("backend-1", 255, "", "INFO  [alembic.runtime.migration] Will assume transactional DDL.\nERROR [alembic.util.messaging] Multiple heads detected: a1b2, c3d4\n  FAILED: Multiple heads detected");
        var error = Assert.Throws<BuildFailure>(() => DatabaseMigration.Judge(output));
        Assert.Contains("alembic merge heads -m \"merge_heads\"", error.Fix);
    }

    [Fact]
    public void Alembic_missing_relation_names_the_table_and_success_passes()
    {
        var error = Assert.Throws<BuildFailure>(() => DatabaseMigration.Judge(new ExecResult("p", 1, "sqlalchemy.exc.ProgrammingError: relation \"projects\" does not exist", "")));
        Assert.Contains("\"projects\"", error.Message);
        DatabaseMigration.Judge(new ExecResult("p", 0, "INFO  Running upgrade a1 -> b2", ""));
    }

    [Fact]
    public void The_certificate_judge_reads_the_Ready_condition()
    {
        Assert.Equal(CertificateState.Missing, CertificateInspector.Judge("tesslate", "c", null).State);
        Assert.Equal(CertificateState.Ready, CertificateInspector.Judge("tesslate", "c", Certificate("True", "Ready")).State);
        var pending = CertificateInspector.Judge("tesslate", "c", Certificate("False", "DoesNotExist", "Issuing certificate as Secret does not exist"));
        Assert.Equal(CertificateState.NotReady, pending.State);
        Assert.Equal("DoesNotExist", pending.Reason);
        Assert.Equal(CertificateState.NotReady, CertificateInspector.Judge("tesslate", "c", new JsonObject()).State);
    }

    [Fact]
    public void A_certificate_that_is_not_ready_is_diagnosed_with_the_cloudflare_permissions_and_the_commands_to_inspect()
    {
        var ok = new HttpCheckResult(new Uri("https://x.test/"), 200, "text/html", null, TimeSpan.Zero);
        var health = new HttpCheckResult(new Uri("https://x.test/health"), 200, "application/json", null, TimeSpan.Zero);
        var cert = CertificateInspector.Judge("tesslate", "tesslate-wildcard-tls", Certificate("False", "Failed")) with { PendingChallenges = ["Challenge/tesslate-wildcard-tls-1-2-3: pending"] };
        var lines = string.Join('\n', EnvironmentVerification.Diagnose(ok, health, cert, DateTimeOffset.UtcNow));
        Assert.Contains("Zone:Zone:Read", lines);
        Assert.Contains("Zone:DNS:Edit", lines);
        Assert.Contains("kubectl describe certificate tesslate-wildcard-tls -n tesslate", lines);
        Assert.Contains("Challenge/tesslate-wildcard-tls-1-2-3", lines);
    }

    [Theory]
    [InlineData("git-0123abc", "0123abc")]
    [InlineData("git-0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567")]
    [InlineData("beta", null)]
    [InlineData("git-XYZ", null)]
    [InlineData(null, null)]
    public void The_git_sha_comes_from_git_tags_only(string? tag, string? sha) => Assert.Equal(sha, WorkloadStatus.GitShaFromTag(tag));

    [Fact]
    public void Digests_are_read_from_image_ids()
    {
        Assert.Equal("sha256:ab", WorkloadStatus.DigestOf("docker-pullable://r.test/app@sha256:ab"));
        Assert.Equal("sha256:cd", WorkloadStatus.DigestOf("r.test/app@sha256:cd"));
        Assert.Null(WorkloadStatus.DigestOf("r.test/app:1"));
    }

    [Fact]
    public void Only_empty_old_unprotected_namespaces_are_prune_candidates()
    {
        var now = DateTimeOffset.Parse("2026-11-28T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var old = now.AddDays(-2);
        Assert.NotNull(NamespacePruning.Judge(new("proj-a", old, 0, 0, false, false), TimeSpan.FromHours(1), now));
        Assert.Null(NamespacePruning.Judge(new("proj-b", old, 1, 0, false, false), TimeSpan.FromHours(1), now));
        Assert.Null(NamespacePruning.Judge(new("proj-c", old, 0, 1, false, false), TimeSpan.FromHours(1), now));
        Assert.Null(NamespacePruning.Judge(new("proj-d", now.AddMinutes(-5), 0, 0, false, false), TimeSpan.FromHours(1), now));
        Assert.Null(NamespacePruning.Judge(new("proj-e", old, 0, 0, true, false), TimeSpan.FromHours(1), now));
        Assert.Null(NamespacePruning.Judge(new("proj-f", old, 0, 0, false, true), TimeSpan.FromHours(1), now));
    }

    [Fact]
    public void Tfvars_view_masks_declared_sensitive_variables_and_secret_looking_names()
    {
        var stack = Directory.CreateTempSubdirectory("tfstack").FullName;
        try
        {
            File.WriteAllText(Path.Combine(stack, "variables.tf"), """
                variable "domain_name" {
                  type = string
                }
                variable "cloudflare_zone" {
                  type      = string
                  sensitive = true
                }
                """);
            var lines = TfvarsSync.View("""
                domain_name = "beta.example.test"
                cloudflare_zone = "zone-id-123"
                postgres_password = "pw-Value-9"
                node_count = 3
                """, "test", SensitiveVariables.Declared(stack));
            var text = string.Join('\n', lines);
            Assert.Contains("domain_name = \"beta.example.test\"", text);
            Assert.Contains("cloudflare_zone = (sensitive)", text);
            Assert.Contains("postgres_password = (sensitive)", text);
            Assert.Contains("node_count = 3", text);
            Assert.DoesNotContain("zone-id-123", text);
            Assert.DoesNotContain("pw-Value-9", text);
        }
        finally
        {
            Directory.Delete(stack, true);
        }
    }

    [Fact]
    public void The_tfvars_diff_names_added_removed_and_changed_variables_only()
    {
        var before = TfvarsFile.Parse("a = \"1\"\nb = \"same\"\nc = { x = 1 }\n", "before");
        var after = TfvarsFile.Parse("b = \"same\"\nc = { x = 2 }\nd = \"new\"\n", "after");
        var diff = TfvarsSync.Compare(before, after, secretExists: true);
        Assert.Equal(["d"], diff.Added);
        Assert.Equal(["a"], diff.Removed);
        Assert.Equal(["c"], diff.Changed);
        Assert.DoesNotContain(diff.Lines(), l => l.Contains("new", StringComparison.Ordinal) && l != "+ d");
    }

    private static JsonObject Certificate(string status, string reason, string? message = null) => new()
    {
        ["apiVersion"] = "cert-manager.io/v1",
        ["kind"] = "Certificate",
        ["metadata"] = new JsonObject { ["name"] = "c", ["namespace"] = "tesslate" },
        ["status"] = new JsonObject
        {
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = status, ["reason"] = reason, ["message"] = message }),
        },
    };
}

public sealed class OperationRulesTests
{
    [Fact]
    public void State_arguments_are_checked_before_terraform_runs()
    {
        Assert.Equal(new StateCommand("list", []).Verb, OperationRules.ParseStateArgs([]).Verb);
        Assert.Equal(["module.a.b"], OperationRules.ParseStateArgs(["show", "module.a.b"]).Addresses);
        var rm = OperationRules.ParseStateArgs(["rm", "a.b", "c.d"]);
        Assert.True(rm.Mutates);
        Assert.Equal(["a.b", "c.d"], rm.Addresses);
        Assert.Contains("needs the address", Assert.Throws<UsageException>(() => OperationRules.ParseStateArgs(["rm"])).Message);
        Assert.Throws<UsageException>(() => OperationRules.ParseStateArgs(["show"]));
        Assert.Throws<UsageException>(() => OperationRules.ParseStateArgs(["mv", "a", "b"]));
    }
}
