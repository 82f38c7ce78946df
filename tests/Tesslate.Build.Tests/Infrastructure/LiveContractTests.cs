using System.Text.Json.Nodes;
using Tesslate.Build.LiveContract;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>
/// The project's aws overlays keep the live platform's contract (issue 13 §1): rendered with the real
/// <c>kubectl kustomize</c>, reduced to facts by the same code that wrote tests/fixtures/live-contract from
/// TesslateAI/Studio, compared; only the differences k8s/deliberate-differences.yaml documents may remain.
/// </summary>
public sealed class LiveContractTests
{
    private static readonly Lazy<LiveContractFacts> Contract = new(() => LiveContractLayout.Load(RepositoryPaths.Root));

    public static TheoryData<string> LiveOverlays() => [.. LiveContractLayout.Overlays];

    [Theory]
    [MemberData(nameof(LiveOverlays))]
    public async Task Overlay_keeps_every_live_fact_except_the_documented_differences(string overlay)
    {
        var rendering = await Kustomize.RenderCleanAsync($"k8s/overlays/{overlay}");
        var project = FactDeriver.Derive(rendering.Yaml);

        var differences = ContractComparison.Compare(Contract.Value.Live[overlay].Objects, project, Contract.Value.TerraformOwned);
        var result = ContractComparison.Reconcile(overlay, differences, Contract.Value.Documented);

        Assert.True(result.Undocumented.Count == 0,
            $"k8s/overlays/{overlay} differs from the live facts ({Contract.Value.Live[overlay].Source.Commit[..8]}) where k8s/deliberate-differences.yaml says nothing:"
            + Environment.NewLine + string.Join(Environment.NewLine, result.Undocumented));
        Assert.True(result.Stale.Count == 0,
            $"k8s/deliberate-differences.yaml lists differences {overlay} no longer has (remove them, and their rows in k8s/README.md):"
            + Environment.NewLine + string.Join(Environment.NewLine, result.Stale));
    }

    [Fact]
    public void The_LiteLLM_configuration_means_what_the_live_one_means()
    {
        var fixture = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(InfrastructureLayout.Full($"{LiveContractLayout.FixtureDirectory}/{LiteLlmConfig.FixtureFile}")))!;
        var ours = File.ReadAllText(InfrastructureLayout.Full(LiteLlmConfig.ProjectPath));

        Assert.Equal((string?)fixture["meaningSha256"], LiteLlmConfig.MeaningSha256(ours));
        Assert.Equal(Contract.Value.Live["aws-beta"].Source.Commit, (string?)fixture["source"]!["commit"]);
    }

    [Theory]
    [InlineData("  database_connection_pool_limit: 20", "  database_connection_pool_limit: \"20\"")] // a number becomes a string
    [InlineData("  num_retries: 2", "  num_retries: 3")]
    public void A_changed_value_or_quoting_changes_the_LiteLLM_configurations_meaning(string line, string changed)
    {
        var ours = File.ReadAllText(InfrastructureLayout.Full(LiteLlmConfig.ProjectPath));
        Assert.Contains(line, ours);
        Assert.NotEqual(LiteLlmConfig.MeaningSha256(ours), LiteLlmConfig.MeaningSha256(ours.Replace(line, changed, StringComparison.Ordinal)));
        // Comments and key order are not meaning.
        Assert.Equal(LiteLlmConfig.MeaningSha256(ours), LiteLlmConfig.MeaningSha256("# a comment\n" + ours));
    }

    [Fact]
    public void Fixture_holds_facts_of_one_recorded_studio_commit_and_no_manifest()
    {
        var sources = Contract.Value.Live.Values.Select(f => f.Source).ToList();

        Assert.All(sources, s => Assert.Matches("^[0-9a-f]{40}$", s.Commit));
        Assert.Single(sources.Select(s => (s.Repository, s.Commit, s.Date)).Distinct());
        Assert.Equal(LiveContractLayout.StudioRepository, sources[0].Repository);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", sources[0].Date);
        Assert.Equal(LiveContractLayout.Overlays.Select(o => "k8s/overlays/" + o), sources.Select(s => s.Overlay));
        foreach (var file in Directory.GetFiles(InfrastructureLayout.Full(LiveContractLayout.FixtureDirectory)))
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain("apiVersion", text, StringComparison.Ordinal);
            Assert.DoesNotContain("kind:", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ownership_is_true_to_the_live_terraform_and_the_live_overlays()
    {
        var contract = Contract.Value;
        var liveOverlayObjects = contract.Live.Values.SelectMany(f => f.Objects.Keys).ToHashSet(StringComparer.Ordinal);

        var notLiveTerraform = contract.Ownership.Where(o => o.Owner == "terraform" && !contract.LiveTerraformObjects.Contains(o.Key.ToString())).ToList();
        var sharedNotTerraform = liveOverlayObjects.Where(contract.LiveTerraformObjects.Contains).Where(key => !contract.TerraformOwned.Contains(key)).ToList();
        var overlayOwnedButTerraformMade = contract.Ownership.Where(o => o.Owner == "overlay" && contract.LiveTerraformObjects.Contains(o.Key.ToString())).ToList();

        Assert.True(notLiveTerraform.Count == 0, "k8s/ownership.yaml gives Terraform objects live Terraform does not create: " + string.Join(", ", notLiveTerraform));
        Assert.True(sharedNotTerraform.Count == 0, "created by both the live overlays and live Terraform, yet not terraform-owned in k8s/ownership.yaml: " + string.Join(", ", sharedNotTerraform));
        Assert.True(overlayOwnedButTerraformMade.Count == 0, "overlay-owned in k8s/ownership.yaml, yet live Terraform creates them: " + string.Join(", ", overlayOwnedButTerraformMade));
    }

    [Fact]
    public void Every_service_account_a_live_workload_runs_under_is_rendered_or_terraform_owned()
    {
        var contract = Contract.Value;
        var missing = new List<string>();
        foreach (var (overlay, facts) in contract.Live)
        {
            foreach (var (key, objectFacts) in facts.Objects)
            {
                if (objectFacts.GetValueOrDefault("serviceAccount")?.GetValue<string>() is not { } account || account == "default")
                    continue;
                var target = $"ServiceAccount/{ObjectKey.Parse(key).Namespace}/{account}";
                if (!facts.Objects.ContainsKey(target) && !contract.TerraformOwned.Contains(target))
                    missing.Add($"{overlay} {key} -> {target}");
            }
        }

        Assert.True(missing.Count == 0, "service accounts neither rendered nor terraform-owned: " + string.Join(", ", missing));
    }

    [Fact]
    public void Readme_lists_every_documented_difference_with_why_and_what_the_first_deploy_does()
    {
        var rows = File.ReadAllLines(InfrastructureLayout.Full("k8s/README.md")).Where(line => line.StartsWith('|')).ToList();

        Assert.NotEmpty(Contract.Value.Documented);
        foreach (var entry in Contract.Value.Documented)
        {
            Assert.True(entry.Why.Length > 20 && entry.FirstDeploy.Length > 5, $"{entry}: why and firstDeploy must say something");
            Assert.True(rows.Any(row => row.Contains($"`{entry.Object}`", StringComparison.Ordinal) && row.Contains($"`{entry.Fact}`", StringComparison.Ordinal)
                && entry.Overlays.All(o => row.Contains(o, StringComparison.Ordinal))), $"k8s/README.md has no row for {entry}");
        }
    }

    // The comparison itself, on the committed facts: each kind of break the issue names is found and named.

    [Fact]
    public void A_selector_change_is_a_difference_naming_the_object_the_fact_and_both_values()
    {
        var live = Contract.Value.Live["aws-beta"].Objects;
        var project = ProjectLike(live);
        project["Deployment/tesslate/tesslate-backend"]["selector"] = FactValue.Of(["app=tesslate-backend"]);

        var difference = Assert.Single(ContractComparison.Compare(live, project, Contract.Value.TerraformOwned));

        Assert.Equal("Deployment/tesslate/tesslate-backend", difference.Object);
        Assert.Equal("selector", difference.Fact);
        Assert.Contains("component=backend", difference.Live, StringComparison.Ordinal);
        Assert.Equal("[\"app=tesslate-backend\"]", difference.New);
    }

    [Fact]
    public void A_swapped_claim_a_lost_host_path_and_a_grown_volume_are_differences()
    {
        var live = Contract.Value.Live["aws-beta"].Objects;
        var compute = Contract.Value.Live["aws-beta/compute"].Objects;
        var project = ProjectLike(live);
        project["Deployment/tesslate/postgres"]["dataVolumes"] = FactValue.Of(["pvc:postgres-data"]);
        project["PersistentVolumeClaim/tesslate/marketplace-data"]["size"] = FactValue.Of("10Gi");
        var projectCompute = ProjectLike(compute);
        projectCompute["DaemonSet/kube-system/tesslate-btrfs-csi-node"]["dataVolumes"] = FactValue.Of(["hostPath:/var/lib/kubelet"]);

        var differences = ContractComparison.Compare(live, project, Contract.Value.TerraformOwned).Select(d => $"{d.Object} {d.Fact}").ToList();
        var computeDifferences = ContractComparison.Compare(compute, projectCompute, Contract.Value.TerraformOwned);

        Assert.Equal(["Deployment/tesslate/postgres dataVolumes", "PersistentVolumeClaim/tesslate/marketplace-data size"], differences.Order(StringComparer.Ordinal));
        Assert.Contains("hostPath:/mnt/tesslate-pool-data", Assert.Single(computeDifferences).Live, StringComparison.Ordinal);
    }

    [Fact]
    public void A_network_policy_matches_under_any_name_but_not_with_other_rules()
    {
        var live = Contract.Value.Live["aws-beta"].Objects;
        var renamed = ProjectLike(live);
        renamed["NetworkPolicy/tesslate/redis-ingress"] = renamed["NetworkPolicy/tesslate/allow-redis-from-platform"];
        renamed.Remove("NetworkPolicy/tesslate/allow-redis-from-platform");
        var narrowed = ProjectLike(live);
        narrowed["NetworkPolicy/tesslate/allow-redis-from-platform"]["ingress"] = FactValue.Of(["from [any] ports [6379/TCP]"]);

        Assert.Empty(ContractComparison.Compare(live, renamed, Contract.Value.TerraformOwned));
        var differences = ContractComparison.Compare(live, narrowed, Contract.Value.TerraformOwned);
        Assert.Equal(2, differences.Count);
        Assert.Contains(differences, d => d.Object == "NetworkPolicy/tesslate/allow-redis-from-platform" && d.Fact == ContractComparison.PolicyFact && d.New is null);
        Assert.Contains(differences, d => d.Fact == ContractComparison.ObjectFact && d.Live is null);
    }

    [Fact]
    public void A_deploy_time_placeholder_matches_any_value_but_literals_must_be_equal()
    {
        Assert.True(ContractComparison.SameValue("\"value:<ECR_REGISTRY>\"", "\"value:859561299901.dkr.ecr.us-east-1.amazonaws.com\""));
        Assert.False(ContractComparison.SameValue("\"value:<ECR_REGISTRY>\"", "\"value:\""));
        Assert.False(ContractComparison.SameValue("\"value:Always\"", "\"value:IfNotPresent\""));
    }

    [Fact]
    public void A_terraform_owned_object_the_overlay_renders_and_a_stale_documented_entry_are_reported()
    {
        var live = Contract.Value.Live["aws-beta"].Objects;
        var project = ProjectLike(live);
        project["ServiceAccount/tesslate/tesslate-backend-sa"] = [];
        var stale = new DocumentedDifference(["aws-beta"], "Deployment/tesslate/redis", "container/redis/command", "[\"redis-server\"]", null, "no longer true", "nothing");

        var differences = ContractComparison.Compare(live, project, Contract.Value.TerraformOwned);
        var result = ContractComparison.Reconcile("aws-beta", differences, [stale]);

        var owner = Assert.Single(result.Undocumented);
        Assert.Equal((ContractComparison.OwnerFact, "ServiceAccount/tesslate/tesslate-backend-sa"), (owner.Fact, owner.Object));
        Assert.Equal(stale, Assert.Single(result.Stale));
    }

    [Fact]
    public void Facts_drop_the_generated_hash_the_namespace_of_cluster_scoped_kinds_and_the_text_of_inline_scripts()
    {
        const string yaml = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: tesslate-config-dh8dg96d9f
              namespace: tesslate
            ---
            apiVersion: snapshot.storage.k8s.io/v1
            kind: VolumeSnapshotClass
            metadata:
              name: snaps
              namespace: kube-system
            driver: btrfs.csi.tesslate.io
            deletionPolicy: Delete
            ---
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: job
              namespace: tesslate
            spec:
              schedule: "0 3 * * *"
              jobTemplate:
                spec:
                  template:
                    spec:
                      containers:
                        - name: run
                          command: ["python", "-c"]
                          args:
                            - |
                              print("a")
                              print("b")
                          env:
                            - name: PORT
                              value: "5432"
                            - name: KEY
                              valueFrom:
                                secretKeyRef: {name: app, key: KEY, optional: true}
            """;

        var facts = FactDeriver.Derive(yaml);

        Assert.Equal(["ConfigMap/tesslate/tesslate-config", "CronJob/tesslate/job", "VolumeSnapshotClass//snaps"], facts.Keys);
        var job = facts["CronJob/tesslate/job"];
        Assert.Equal("[\"<inline script>\"]", FactValue.Canonical(job["container/run/args"]));
        Assert.Equal("\"value:5432\"", FactValue.Canonical(job["container/run/env/PORT"]));
        Assert.Equal("\"secret:app/KEY (optional)\"", FactValue.Canonical(job["container/run/env/KEY"]));
        Assert.Equal("\"0 3 * * *\"", FactValue.Canonical(job["schedule"]));
        Assert.Equal("\"default\"", FactValue.Canonical(job["serviceAccount"]));
    }

    /// <summary>The live facts as a faithful project would render them: without the objects Terraform owns.</summary>
    private static SortedDictionary<string, SortedDictionary<string, JsonNode?>> ProjectLike(SortedDictionary<string, SortedDictionary<string, JsonNode?>> live) =>
        Copy(live.Where(p => !Contract.Value.TerraformOwned.Contains(p.Key)));

    private static SortedDictionary<string, SortedDictionary<string, JsonNode?>> Copy(IEnumerable<KeyValuePair<string, SortedDictionary<string, JsonNode?>>> objects)
    {
        var copy = new SortedDictionary<string, SortedDictionary<string, JsonNode?>>(StringComparer.Ordinal);
        foreach (var (key, facts) in objects)
            copy[key] = new SortedDictionary<string, JsonNode?>(facts.ToDictionary(p => p.Key, p => p.Value?.DeepClone()), StringComparer.Ordinal);
        return copy;
    }
}
