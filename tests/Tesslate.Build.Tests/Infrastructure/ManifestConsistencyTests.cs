using System.Text.RegularExpressions;
using k8s.Models;
using Tesslate.Build.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>What the rendered overlays must hold together: images, resources, probes, references, defect fixes.</summary>
public sealed partial class ManifestConsistencyTests
{
    [Fact]
    public async Task Every_catalog_image_is_run_by_a_workload_or_referenced_at_run_time()
    {
        var repositoriesRun = new HashSet<string>(StringComparer.Ordinal);
        var runtimeKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var overlay in InfrastructureLayout.Deployable.Where(o => o.IsAws))
        {
            var rendering = await Kustomize.RenderCleanAsync(overlay.Path);
            foreach (var container in Workloads.Of(rendering).SelectMany(w => w.AllContainers))
                repositoriesRun.Add(Workloads.ParseImage(container.Image).Repository.Split('/')[^1]);
            foreach (var map in rendering.OfType<V1ConfigMap>().Where(m => m.Name() == InfrastructureLayout.RuntimeImagesConfigMap))
                runtimeKeys.UnionWith(map.Data.Keys);
        }

        var unused = InfrastructureLayout.Catalog
            .Where(image => !repositoriesRun.Contains(image.Repository) && !(image.ReferencedAtRunTime && runtimeKeys.Contains(image.Name)))
            .Select(image => image.Name)
            .ToList();
        Assert.True(unused.Count == 0, $"catalog images neither run by a workload nor in {InfrastructureLayout.RuntimeImagesConfigMap}: {string.Join(", ", unused)}");
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.AwsDeployableOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Aws_containers_run_catalog_images_or_third_party_images_pinned_to_a_version(string overlay)
    {
        var spec = InfrastructureLayout.Overlay(overlay);
        var rendering = await Kustomize.RenderCleanAsync(overlay);
        var catalogRepositories = InfrastructureLayout.Catalog.Select(i => $"{spec.Registry}/{i.Repository}").ToHashSet(StringComparer.Ordinal);

        var problems = new List<string>();
        foreach (var workload in Workloads.Of(rendering))
        {
            foreach (var container in workload.AllContainers)
            {
                var (repository, tag, digest) = Workloads.ParseImage(container.Image);
                if (catalogRepositories.Contains(repository))
                {
                    if (tag != spec.EnvironmentTag && digest is null)
                        problems.Add($"{workload} {container.Name}: catalog image {container.Image} must carry :{spec.EnvironmentTag} (the pipeline pins its digest)");
                }
                else if (repository.Contains(".dkr.ecr.", StringComparison.Ordinal) || !repository.Contains('.', StringComparison.Ordinal) && !repository.Contains('/', StringComparison.Ordinal) && InfrastructureLayout.Catalog.Any(i => i.Repository == repository))
                {
                    problems.Add($"{workload} {container.Name}: {container.Image} is not a catalog image of {spec.Registry}");
                }
                else if (digest is null && (tag is null || tag == "latest" || !ExplicitVersion().IsMatch(tag)))
                {
                    problems.Add($"{workload} {container.Name}: third-party image {container.Image} needs a version tag (at least the major version) or a digest");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [Fact]
    public async Task Local_overlay_runs_catalog_images_from_the_local_registry()
    {
        var rendering = await Kustomize.RenderCleanAsync("k8s/overlays/local");
        var catalog = InfrastructureLayout.Catalog.Select(i => i.Repository).ToHashSet(StringComparer.Ordinal);

        var catalogContainers = Workloads.Of(rendering).SelectMany(w => w.AllContainers)
            .Where(c => catalog.Contains(Workloads.ParseImage(c.Image).Repository.Split('/')[^1]))
            .ToList();

        Assert.NotEmpty(catalogContainers);
        Assert.All(catalogContainers, c => Assert.Matches(@"^localhost:5000/tesslate-[a-z-]+:local$", c.Image));
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.AllOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Every_container_declares_cpu_and_memory_requests_and_limits(string overlay)
    {
        var rendering = await Kustomize.RenderCleanAsync(overlay);

        var missing = (from workload in Workloads.Of(rendering)
                       from container in workload.AllContainers
                       from key in new[] { "requests.cpu", "requests.memory", "limits.cpu", "limits.memory" }
                       where !HasQuantity(container.Resources, key)
                       select $"{workload} {container.Name}: {key}").ToList();

        Assert.True(missing.Count == 0, string.Join(Environment.NewLine, missing));
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.AllOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Every_long_running_container_that_serves_a_port_has_a_liveness_probe_and_in_a_deployment_a_readiness_probe(string overlay)
    {
        // Containers without a port (worker, gateway, controller, CSI sidecars) have nothing a probe could ask that the
        // live platform answers today; an invented probe would restart healthy pods.
        var rendering = await Kustomize.RenderCleanAsync(overlay);

        var missing = (from workload in Workloads.Of(rendering)
                       where !workload.IsJob
                       from container in workload.Pod.Containers
                       where container.Ports is { Count: > 0 }
                       where container.LivenessProbe is null || workload.Kind == "Deployment" && container.ReadinessProbe is null
                       select $"{workload} {container.Name}").ToList();

        Assert.True(missing.Count == 0, "port-serving containers without their probes: " + string.Join(", ", missing));
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.AllOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Every_workload_sets_its_termination_grace_period_and_pull_policy(string overlay)
    {
        var rendering = await Kustomize.RenderCleanAsync(overlay);
        var workloads = Workloads.Of(rendering);

        Assert.All(workloads, w => Assert.True(w.Pod.TerminationGracePeriodSeconds is > 0, $"{w}: no terminationGracePeriodSeconds"));
        // Every image is pinned (catalog images by digest at apply time, third-party by version): IfNotPresent is safe.
        Assert.All(workloads.SelectMany(w => w.AllContainers.Select(c => (w, c))),
            pair => Assert.True(pair.c.ImagePullPolicy == "IfNotPresent", $"{pair.w} {pair.c.Name}: imagePullPolicy {pair.c.ImagePullPolicy ?? "(default)"}"));
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.TesslateOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Runtime_images_live_in_one_configmap_that_matches_the_images_block(string overlay)
    {
        var spec = InfrastructureLayout.Overlay(overlay);
        var rendering = await Kustomize.RenderCleanAsync(overlay);

        var map = Assert.Single(rendering.OfType<V1ConfigMap>(), m => m.Name() == InfrastructureLayout.RuntimeImagesConfigMap);
        var expected = InfrastructureLayout.Catalog.Where(i => i.ReferencedAtRunTime)
            .ToDictionary(i => i.Name, i => $"{spec.Registry}/{i.Repository}:{spec.EnvironmentTag}");
        Assert.Equal(expected.OrderBy(p => p.Key), map.Data.OrderBy(p => p.Key));
        Assert.Empty(OverlayLint.CheckImages(InfrastructureLayout.Full(overlay), expected.Keys.Select(k => InfrastructureLayout.Catalog.Single(i => i.Name == k).Repository), spec.EnvironmentTag));

        foreach (var (deployment, container) in new[] { ("tesslate-backend", "backend"), ("tesslate-worker", "worker") })
        {
            var env = rendering.OfType<V1Deployment>().Single(d => d.Name() == deployment)
                .Spec.Template.Spec.Containers.Single(c => c.Name == container).Env;
            var devserver = Assert.Single(env, e => e.Name == "K8S_DEVSERVER_IMAGE");
            Assert.Equal(InfrastructureLayout.RuntimeImagesConfigMap, devserver.ValueFrom?.ConfigMapKeyRef?.Name);
            Assert.Equal("devserver", devserver.ValueFrom?.ConfigMapKeyRef?.Key);
        }
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.DeployableOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Every_referenced_secret_configmap_service_account_and_storage_class_is_created_by_the_overlay_or_terraform(string overlay)
    {
        var spec = InfrastructureLayout.Overlay(overlay);
        var rendering = await Kustomize.RenderCleanAsync(overlay);
        var created = CreatedObjects(rendering);
        if (spec.IsAws)
            created.UnionWith(await TerraformCreatedObjects());

        var dangling = References(rendering).Where(reference => !created.Contains(reference.Target)).Select(r => $"{r.From} -> {r.Target}").Distinct().ToList();

        Assert.True(dangling.Count == 0, $"{overlay} references objects nothing creates:{Environment.NewLine}{string.Join(Environment.NewLine, dangling)}");
    }

    [Fact]
    public async Task Worker_drain_fits_inside_its_rollout_deadline_and_the_reason_is_written_next_to_it()
    {
        var rendering = await Kustomize.RenderCleanAsync("k8s/overlays/aws-production");
        var worker = rendering.OfType<V1Deployment>().Single(d => d.Name() == "tesslate-worker");

        var grace = worker.Spec.Template.Spec.TerminationGracePeriodSeconds;
        var timeout = int.Parse(worker.Metadata.Annotations["tesslate.io/rollout-timeout-seconds"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(300, grace);
        Assert.True(timeout > grace, $"rollout timeout {timeout} s must exceed the worker's drain of {grace} s (legacy: equal, so long drains failed)");
        Assert.True(worker.Spec.ProgressDeadlineSeconds >= timeout);
        var source = File.ReadAllText(InfrastructureLayout.Full("k8s/base/core/worker.yaml"));
        Assert.Contains("Drain vs deadline", source, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.TesslateOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Namespace_denies_ingress_and_egress_by_default_and_allows_dns_and_the_marketplace_egress(string overlay)
    {
        var rendering = await Kustomize.RenderCleanAsync(overlay);
        var policies = rendering.OfType<V1NetworkPolicy>().ToList();

        foreach (var (name, type) in new[] { ("default-deny-ingress", "Ingress"), ("default-deny-egress", "Egress") })
        {
            var deny = Assert.Single(policies, p => p.Name() == name);
            Assert.True(deny.Spec.PodSelector.MatchLabels is null or { Count: 0 });
            Assert.Equal([type], deny.Spec.PolicyTypes);
            Assert.Null(type == "Ingress" ? (object?)deny.Spec.Ingress : deny.Spec.Egress);
        }
        var dns = Assert.Single(policies, p => p.Name() == "allow-dns-egress");
        Assert.Contains(dns.Spec.Egress.SelectMany(r => r.Ports), p => p.Port.Value == "53" && p.Protocol == "UDP");
        var egress = Assert.Single(policies, p => p.Name() == "allow-marketplace-egress");
        Assert.Contains("Egress", egress.Spec.PolicyTypes);
        Assert.Equal("tesslate-marketplace", egress.Spec.PodSelector.MatchLabels["app"]);
        Assert.NotEmpty(egress.Spec.Egress);
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.TesslateOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Marketplace_creates_its_database_before_migrating_it(string overlay)
    {
        var rendering = await Kustomize.RenderCleanAsync(overlay);
        var marketplace = rendering.OfType<V1Deployment>().Single(d => d.Name() == "tesslate-marketplace");

        Assert.Equal(["create-database", "alembic-migrate"], marketplace.Spec.Template.Spec.InitContainers.Select(c => c.Name));
        Assert.Equal("Recreate", marketplace.Spec.Strategy.Type);
    }

    [Fact]
    public async Task In_cluster_postgres_leaves_the_overlay_that_uses_rds_through_the_component()
    {
        var production = await Kustomize.RenderCleanAsync("k8s/overlays/aws-production");
        var beta = await Kustomize.RenderCleanAsync("k8s/overlays/aws-beta");

        Assert.DoesNotContain(production.OfType<V1Deployment>(), d => d.Name() == "postgres");
        Assert.DoesNotContain(production.OfType<V1PersistentVolumeClaim>(), p => p.Name() == "postgres-pvc");
        Assert.DoesNotContain(production.OfType<V1Service>(), s => s.Name() == "postgres");
        Assert.Contains(beta.OfType<V1Deployment>(), d => d.Name() == "postgres");
        Assert.Contains("../../components/external-postgres", File.ReadAllText(InfrastructureLayout.Full("k8s/overlays/aws-production/kustomization.yaml")), StringComparison.Ordinal);
        Assert.DoesNotContain("external-postgres", File.ReadAllText(InfrastructureLayout.Full("k8s/overlays/aws-beta/kustomization.yaml")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("k8s/overlays/aws-beta", 1)]
    [InlineData("k8s/overlays/aws-production", 2)]
    public async Task Backend_frontend_and_worker_replicas_follow_the_environment(string overlay, int replicas)
    {
        var rendering = await Kustomize.RenderCleanAsync(overlay);

        foreach (var name in new[] { "tesslate-backend", "tesslate-frontend", "tesslate-worker" })
            Assert.Equal(replicas, rendering.OfType<V1Deployment>().Single(d => d.Name() == name).Spec.Replicas);
    }

    [Fact]
    public async Task Local_overlay_runs_one_replica_of_everything_without_irsa_and_marks_its_development_secrets()
    {
        var rendering = await Kustomize.RenderCleanAsync("k8s/overlays/local");

        Assert.All(rendering.OfType<V1Deployment>(), d => Assert.Equal(1, d.Spec.Replicas));
        Assert.DoesNotContain(rendering.OfType<V1ServiceAccount>(), sa => sa.Metadata.Annotations?.ContainsKey("eks.amazonaws.com/role-arn") == true);
        var secrets = rendering.OfType<V1Secret>().ToList();
        Assert.NotEmpty(secrets);
        Assert.All(secrets, s => Assert.Equal("true", s.Metadata.Annotations?["tesslate.io/development-values"]));
        Assert.All(rendering.OfType<V1PersistentVolumeClaim>(), p => Assert.Equal("tesslate-local", p.Spec.StorageClassName));
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.DeployableOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Every_object_carries_its_environment_label(string overlay)
    {
        var spec = InfrastructureLayout.Overlay(overlay);
        var rendering = await Kustomize.RenderCleanAsync(overlay);

        foreach (var item in rendering.Objects.OfType<k8s.IKubernetesObject<V1ObjectMeta>>())
            Assert.True(item.Metadata.Labels?.TryGetValue("environment", out var value) == true && value == spec.EnvironmentTag, $"{item.Metadata.Name} lacks environment={spec.EnvironmentTag}");
    }

    [Fact]
    public async Task Image_precache_pulls_the_environments_devserver_and_only_pulls()
    {
        var compute = await Kustomize.RenderCleanAsync("k8s/overlays/aws-beta/compute");

        var precache = compute.OfType<V1DaemonSet>().Single(d => d.Name() == "tesslate-image-precache");

        Assert.Contains(precache.Spec.Template.Spec.InitContainers, c => c.Image == $"{InfrastructureLayout.AwsRegistry}/tesslate-devserver:beta");
        Assert.All(precache.Spec.Template.Spec.InitContainers, c => Assert.Equal(["true"], c.Command));
        Assert.Equal("registry.k8s.io/pause:3.10", Assert.Single(precache.Spec.Template.Spec.Containers).Image);
    }

    [Fact]
    public async Task Workloads_using_an_image_come_from_the_manifests_so_an_ast_build_restarts_only_the_backend()
    {
        var rendering = await Kustomize.RenderCleanAsync("k8s/overlays/aws-production");
        var users = Workloads.Of(rendering)
            .SelectMany(w => w.AllContainers.Select(c => (Workload: w.Name, Repository: Workloads.ParseImage(c.Image).Repository.Split('/')[^1])))
            .ToLookup(pair => pair.Repository, pair => pair.Workload);

        // Legacy §8.2 item 6: the worker has no AST container, so an ast build must not roll it.
        Assert.Equal(["tesslate-backend"], users["tesslate-ast"].Distinct());
        // Legacy §8.2 item 5: every workload on the backend image is pinned with it, so all of them roll together.
        Assert.Equal(
            ["namespace-reaper", "opensail-runtime", "snapshot-cleanup", "tesslate-automations-controller", "tesslate-backend", "tesslate-gateway", "tesslate-worker"],
            users["tesslate-backend"].Distinct().Order(StringComparer.Ordinal));
    }

    private static bool HasQuantity(V1ResourceRequirements? resources, string key)
    {
        var parts = key.Split('.');
        var map = parts[0] == "requests" ? resources?.Requests : resources?.Limits;
        return map?.ContainsKey(parts[1]) == true;
    }

    /// <summary>(kind, namespace, name) of every object the rendering creates; generated names also under their base name.</summary>
    private static HashSet<(string Kind, string Namespace, string Name)> CreatedObjects(Rendering rendering)
    {
        var created = new HashSet<(string, string, string)>();
        foreach (var item in rendering.Objects.OfType<k8s.IKubernetesObject<V1ObjectMeta>>())
            created.Add((item.Kind, item.Metadata.NamespaceProperty ?? "", item.Metadata.Name));
        return created;
    }

    private static async Task<HashSet<(string Kind, string Namespace, string Name)>> TerraformCreatedObjects()
    {
        var stack = await Hcl2Json.StackAsync("terraform/aws");
        var created = new HashSet<(string, string, string)>();
        // The live stack's kubernetes provider 2 types and their _v1 twins create the same objects.
        foreach (var (type, kind) in new[] { ("kubernetes_secret", "Secret"), ("kubernetes_config_map", "ConfigMap"), ("kubernetes_service_account", "ServiceAccount") })
        {
            foreach (var (_, body) in stack.Resources(type).Concat(stack.Resources(type + "_v1")))
            {
                var metadata = body.GetProperty("metadata")[0];
                var name = metadata.GetProperty("name").GetString()!;
                var ns = metadata.TryGetProperty("namespace", out var n) ? n.GetString()! : "default";
                created.Add((kind, ns.Contains("kubernetes_namespace", StringComparison.Ordinal) && ns.Contains(".tesslate.", StringComparison.Ordinal) ? "tesslate" : ns, name));
            }
        }

        foreach (var (_, body) in stack.Resources("kubernetes_storage_class").Concat(stack.Resources("kubernetes_storage_class_v1")))
            created.Add(("StorageClass", "", body.GetProperty("metadata")[0].GetProperty("name").GetString()!));
        return created;
    }

    private sealed record Reference(string From, (string Kind, string Namespace, string Name) Target);

    private static IEnumerable<Reference> References(Rendering rendering)
    {
        foreach (var workload in Workloads.Of(rendering))
        {
            var ns = workload.Namespace;
            var from = workload.ToString();
            if (workload.Pod.ServiceAccountName is { } serviceAccount)
                yield return new(from, ("ServiceAccount", ns, serviceAccount));
            foreach (var container in workload.AllContainers)
            {
                foreach (var source in container.EnvFrom ?? [])
                {
                    if (source.SecretRef is { Optional: not true } secret)
                        yield return new(from, ("Secret", ns, secret.Name));
                    if (source.ConfigMapRef is { Optional: not true } map)
                        yield return new(from, ("ConfigMap", ns, map.Name));
                }

                foreach (var variable in container.Env ?? [])
                {
                    if (variable.ValueFrom?.SecretKeyRef is { Optional: not true } secret)
                        yield return new(from, ("Secret", ns, secret.Name));
                    if (variable.ValueFrom?.ConfigMapKeyRef is { Optional: not true } map)
                        yield return new(from, ("ConfigMap", ns, map.Name));
                }
            }

            foreach (var volume in workload.Pod.Volumes ?? [])
            {
                if (volume.Secret is { Optional: not true } secret)
                    yield return new(from, ("Secret", ns, secret.SecretName));
                if (volume.ConfigMap is { Optional: not true } map)
                    yield return new(from, ("ConfigMap", ns, map.Name));
                if (volume.PersistentVolumeClaim is { } claim)
                    yield return new(from, ("PersistentVolumeClaim", ns, claim.ClaimName));
            }
        }

        foreach (var claim in rendering.OfType<V1PersistentVolumeClaim>())
        {
            if (claim.Spec.StorageClassName is { } storageClass)
                yield return new($"PersistentVolumeClaim {claim.Namespace()}/{claim.Name()}", ("StorageClass", "", storageClass));
        }
    }

    // A version, at least the major one (postgres:15-alpine): the live platform's databases run major-version tags,
    // and keeping them means the takeover restarts no database. Never `latest`, never no tag.
    [GeneratedRegex(@"^v?\d+(\.\d+)*([.-][A-Za-z0-9.-]+)?$")]
    private static partial Regex ExplicitVersion();
}
