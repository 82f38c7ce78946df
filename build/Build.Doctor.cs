using System.Text.Json;
using Tesslate.Build.Docker;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Git;
using Tesslate.Build.Images;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Platform;
using Tesslate.Build.Tools;
using TerraformCli = Tesslate.Build.Terraform.TerraformCli;
using TerraformVersion = Tesslate.Build.Terraform.TerraformVersion;

namespace Tesslate.Build;

internal sealed partial class Build
{
    private sealed record PrerequisiteCheck(string Name, bool Ok, string Found, string Fix);

    /// <summary>The tools the planned targets start (their <see cref="StartsTool"/> facts), so a missing one fails before any side effect.</summary>
    private IEnumerable<string> ToolsForPlan()
    {
        var tools = TargetFacts.Tools(ScheduledTargets);
        // The requested application commit is resolved in the source root before anything runs.
        return ApplicationRef is not null && SourceRootInEffect() is not null ? tools.Append("git").Distinct() : tools;
    }

    private async Task RunDoctorAsync(CancellationToken cancellationToken)
    {
        var tools = new List<string> { "git" };
        // shared is Terraform only: no images to build, no workloads to apply.
        if (Settings.HasWorkloads)
            tools.AddRange(["docker", "kubectl"]);
        if (Settings.RunsTerraform)
            tools.Add("terraform");
        var checks = (await CheckToolsAsync(tools, cancellationToken)).ToList();
        // Images build from the application's source; shared builds none.
        if (Settings.HasWorkloads)
            checks.Add(await CheckSourceRootAsync(cancellationToken));
        if (Settings.AccountId is not null && Environment != DeployEnvironment.Local)
            checks.AddRange(await CheckAwsAsync(cancellationToken));
        else if (Environment == DeployEnvironment.Local)
            checks.AddRange(await CheckClusterAsync(cancellationToken));

        foreach (var check in checks)
            Log.Information("{Mark} {Name,-22} {Found}{Fix}", check.Ok ? "✔" : "✘", check.Name, check.Found, check.Ok ? "" : $"  → {check.Fix}");
        Report.SetSection("doctor", checks);
        var failed = checks.Where(c => !c.Ok).ToList();
        Note($"{checks.Count - failed.Count}/{checks.Count} prerequisites of {Settings.Id} are in place");
        if (failed.Count > 0 && !IsDryRun)
            throw new BuildFailure($"{failed.Count} prerequisite(s) of {Settings.Id} missing: {string.Join(", ", failed.Select(c => c.Name))}.", string.Join(" ", failed.Select(c => c.Fix)));
    }

    /// <summary>Which of the three ways set the source root, where it points and the commit it has checked out.</summary>
    private async Task<PrerequisiteCheck> CheckSourceRootAsync(CancellationToken cancellationToken)
    {
        const string name = "source root";
        if (SourceRootInEffect() is not var (path, origin))
            return new(name, false, $"not set: {Settings.Id} builds its images from a checkout of the application repository", SourceRoots.Fix);
        var git = new GitRepository(Runner, path, Tools.Git);
        try
        {
            if (!Directory.Exists(path) || !await git.IsRepositoryAsync(cancellationToken))
                return new(name, false, $"{path} (from {origin}) is not a git checkout", "Clone the application repository with git (images are tagged with its commit, submodules need it). " + SourceRoots.Fix);
            var head = await git.HeadCommitAsync(cancellationToken);
            return new(name, true, $"{path} (from {origin}) at {head}", "");
        }
        catch (BuildFailure failure)
        {
            return new(name, false, $"{path} (from {origin}): {OneLine(failure)}", failure.Fix ?? "Install git (https://git-scm.com/downloads).");
        }
    }

    private async Task<IReadOnlyList<PrerequisiteCheck>> CheckToolsAsync(IEnumerable<string> tools, CancellationToken cancellationToken)
    {
        var checks = new List<PrerequisiteCheck>();
        foreach (var tool in tools.Distinct())
        {
            checks.AddRange(tool switch
            {
                "git" => [await ProbeAsync("git", GitRepository.VersionCommand(Tools.Git), output => output.Replace("git version ", "", StringComparison.Ordinal), "Install git (https://git-scm.com/downloads).", cancellationToken)],
                "docker" => await CheckDockerAsync(cancellationToken),
                "kubectl" => [await ProbeAsync("kubectl + kustomize", KustomizeRenderer.VersionCommand(Tools.Kubectl), KubectlVersion, "Install kubectl ≥ 1.27 (it embeds kustomize): https://kubernetes.io/docs/tasks/tools/.", cancellationToken)],
                "terraform" => [await CheckTerraformAsync(cancellationToken)],
                _ => [],
            });
        }
        return checks;
    }

    private async Task<PrerequisiteCheck> ProbeAsync(string name, ToolCommand command, Func<string, string> describe, string fix, CancellationToken cancellationToken)
    {
        try
        {
            var result = await Runner.RunAsync(command.AsProbe() with { Timeout = TimeSpan.FromSeconds(20) }, cancellationToken);
            return new PrerequisiteCheck(name, true, describe(result.StandardOutput.Trim()), fix);
        }
        catch (BuildFailure failure)
        {
            return new PrerequisiteCheck(name, false, failure.Problem.Split('\n')[0], fix);
        }
    }

    private async Task<IEnumerable<PrerequisiteCheck>> CheckDockerAsync(CancellationToken cancellationToken)
    {
        var docker = new DockerCli(Runner, DockerOptions);
        PrerequisiteCheck engine;
        try
        {
            var found = await docker.ProbeEngineAsync(cancellationToken);
            engine = new PrerequisiteCheck("docker engine", true, $"engine {found.ServerVersion} at {found.Endpoint}", "");
        }
        catch (PrerequisiteMissingException missing)
        {
            // Names the endpoint tried (DOCKER_HOST, DOCKER_CONTEXT or the current context) and how to start an engine.
            engine = new PrerequisiteCheck("docker engine", false, missing.Problem, missing.Fix ?? "");
        }
        var buildx = await ProbeAsync("docker buildx", docker.Command(["buildx", "version"]), version => version.Split('\n')[0],
            "Optional: install the buildx plugin for multi-platform builds and registry caches; without it images build with docker build + docker push.", cancellationToken);
        // buildx is optional: the builder falls back to docker build + push.
        return [engine, buildx with { Ok = true, Found = buildx.Ok ? buildx.Found : "absent (falls back to docker build + docker push)" }];
    }

    private async Task<PrerequisiteCheck> CheckTerraformAsync(CancellationToken cancellationToken)
    {
        // The adapter's minimum and parser: the Doctor reports what TerraformCli would refuse.
        var minimum = TerraformVersion.Minimum.ToString(2);
        var check = await ProbeAsync($"terraform ≥ {minimum}", TerraformCli.VersionCommand(Tools.Terraform),
            output => TerraformVersion.Parse(output)?.ToString() ?? "",
            $"Install Terraform ≥ {minimum} (S3-native state locking): https://developer.hashicorp.com/terraform/install.", cancellationToken);
        if (!check.Ok)
            return check;
        if (!Version.TryParse(check.Found, out var version))
            return check with { Ok = false, Found = "its version could not be read" };
        return TerraformVersion.IsSupported(version) ? check : check with { Ok = false, Found = $"{version} (too old)" };
    }

    private async Task<IEnumerable<PrerequisiteCheck>> CheckAwsAsync(CancellationToken cancellationToken)
    {
        var checks = new List<PrerequisiteCheck>();
        try
        {
            var session = await AwsAsync(cancellationToken);
            checks.Add(new("AWS credentials", true, session.CredentialSource, ""));
            var identity = await Diagnosed(() => session.Sts.GetCallerIdentityAsync(cancellationToken));
            var accountOk = identity.Account == Settings.AccountId;
            checks.Add(new("AWS account", accountOk, $"{identity.Account} ({identity.Arn})", $"Use credentials for account {Settings.AccountId} (--aws-profile)."));
            if (accountOk && HasCluster)
                checks.AddRange(await CheckClusterAsync(cancellationToken));
        }
        catch (BuildFailure failure)
        {
            checks.Add(new("AWS credentials", false, failure.Problem.Split('\n')[0], failure.Fix ?? "Configure AWS credentials (aws configure sso, or a profile)."));
        }
        return checks;
    }

    private bool HasCluster => Settings.HasWorkloads && (Environment == DeployEnvironment.Local || Settings.ClusterName is not null);

    /// <summary>
    /// What a cluster target needs, probed the same way by Doctor and Preflight: the team role can be assumed (or the
    /// caller already is it), the EKS cluster exists, and its API server answers GET /version with the run's credentials.
    /// local: the kube context's API server.
    /// </summary>
    private async Task<IReadOnlyList<PrerequisiteCheck>> CheckClusterAsync(CancellationToken cancellationToken)
    {
        if (Environment == DeployEnvironment.Local)
            return [await CheckApiServerAsync(
                $"Refresh the credentials of the kube context (kubectl{(KubeContext is null ? "" : $" --context {KubeContext}")} get namespaces shows the same refusal).",
                "Start the local cluster (kind, minikube, Docker Desktop) or pass --kube-context with one that runs.", cancellationToken)];
        var checks = new List<PrerequisiteCheck>();
        var role = ClusterRole();
        try
        {
            var (_, _, already) = await ClusterSessionAsync(cancellationToken);
            checks.Add(new("cluster role", true, already ? $"{role.Arn} (your credentials already are this role: not assumed again)" : $"{role.Arn} (assumable)", ""));
        }
        catch (BuildFailure failure) when (failure is not UsageException)
        {
            checks.Add(new("cluster role", false, OneLine(failure),
                failure.Fix ?? $"Ask to be added to IAM group {TeamRoles.GroupFor(Settings.Id, role.Role)}, or pass --role with a role you may assume."));
        }
        try
        {
            var cluster = await (await AwsAsync(cancellationToken)).Eks.DescribeClusterAsync(Settings.ClusterName!, cancellationToken);
            checks.Add(new("EKS cluster", true, $"{cluster.Name} {cluster.Status} (Kubernetes {cluster.Version})", ""));
        }
        catch (BuildFailure failure) when (failure is not UsageException)
        {
            checks.Add(new("EKS cluster", false, OneLine(failure), $"Check --aws-region ({Settings.Region}) and that {Settings.ClusterName} exists (TerraformApply creates it)."));
        }
        if (checks.All(c => c.Ok))
            checks.Add(await CheckApiServerAsync(
                $"Give {role.Arn} an EKS access entry on {Settings.ClusterName} (the Terraform stack grants the team roles), or choose a --role that has one.",
                $"Check the network path to the cluster's endpoint (VPN, the endpoint's public access CIDRs) and that {Settings.ClusterName} is ACTIVE.", cancellationToken));
        return checks;
    }

    private async Task<PrerequisiteCheck> CheckApiServerAsync(string rejectedFix, string unreachableFix, CancellationToken cancellationToken)
    {
        try
        {
            var cluster = await ClusterAsync(cancellationToken);
            var version = await ApiServerProbe.VersionAsync(cluster, rejectedFix, unreachableFix, ApiServerTimeout, cancellationToken);
            return new("cluster API server", true, $"{cluster.DisplayName}: Kubernetes {version}", "");
        }
        catch (BuildFailure failure) when (failure is not UsageException)
        {
            return new("cluster API server", false, OneLine(failure), failure.Fix ?? unreachableFix);
        }
    }

    /// <summary>The whole problem, diagnosis included, on one table row.</summary>
    private static string OneLine(BuildFailure failure) => string.Join(" ", failure.Problem.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private static readonly TimeSpan ApiServerTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Preflight's part of <see cref="CheckClusterAsync"/>: only when a scheduled target uses the cluster. A cluster that does not
    /// exist while Terraform may create or rename it in this run (TerraformApply, TerraformOutput) is first provisioning,
    /// not a failure. --dry-run reports failures as warnings.
    /// </summary>
    private async Task PreflightClusterAsync(CancellationToken cancellationToken)
    {
        if (!HasCluster || TargetFacts.Cluster(ScheduledTargets) == ClusterUse.None)
            return;
        if (Environment != DeployEnvironment.Local && (IsPlanned(nameof(TerraformApply)) || IsPlanned(nameof(TerraformOutput))) && !await ClusterExistsAsync(cancellationToken))
        {
            Note($"{Settings.ClusterName} does not exist yet: its role and API server are checked once Terraform has created it");
            return;
        }
        var checks = await CheckClusterAsync(cancellationToken);
        foreach (var check in checks.Where(c => c.Ok))
            Note($"{check.Name}: {check.Found}");
        var failed = checks.Where(c => !c.Ok).ToList();
        if (failed.Count == 0)
            return;
        if (IsDryRun)
        {
            foreach (var check in failed)
                Log.Warning("[dry-run] {Name}: {Found} → {Fix}", check.Name, check.Found, check.Fix);
            return;
        }
        throw new PrerequisiteMissingException(string.Join("; ", failed.Select(c => $"{c.Name}: {c.Found}")), string.Join(" ", failed.Select(c => c.Fix)));
    }

    private static string KubectlVersion(string json)
    {
        using var document = JsonDocument.Parse(json);
        var client = document.RootElement.GetProperty("clientVersion").GetProperty("gitVersion").GetString();
        var kustomize = document.RootElement.TryGetProperty("kustomizeVersion", out var k) ? k.GetString() : "?";
        return $"kubectl {client}, kustomize {kustomize}";
    }
}
