using Tesslate.Build.Aws;
using Tesslate.Build.Docker;
using Tesslate.Build.Engine;
using Tesslate.Build.Platform;

namespace Tesslate.Build;

internal sealed partial class Build
{
    /// <summary>The run's AWS session, connected once by whichever target needs it first (targets run side by side).</summary>
    private Task<AwsSession> AwsAsync(CancellationToken cancellationToken) => _run.Aws.GetAsync(async () =>
    {
        var session = await AwsSession.ConnectAsync(new AwsOptions { Profile = AwsProfile, Region = Settings.Region, RegionSource = RegionSource, Choices = AwsFlags }, Log, cancellationToken, AwsVariables);
        Cleanup.Register("close AWS clients", () => { session.Dispose(); return Task.CompletedTask; });
        return session;
    });

    /// <summary>How this pipeline's user chooses a profile, a region and a role: its flags, which the AWS adapter's fixes name.</summary>
    private static readonly AwsChoices AwsFlags = new("--aws-profile", "--aws-region", "--role");

    /// <summary>The ECR token source shared by docker login and the registry client (one token, refreshed when it expires).</summary>
    private Task<EcrCredentials> EcrCredentialsAsync(CancellationToken cancellationToken) =>
        _run.EcrCredentials.GetAsync(async () => new EcrCredentials((await AwsAsync(cancellationToken)).Ecr));

    private string ExpectedAccount => Settings.AccountId ?? throw new UsageException($"{Settings.Id} has no AWS account.");

    private async Task RunPreflightAsync(CancellationToken cancellationToken)
    {
        // The request first: a ref that names nothing is bad input, whatever else is missing. Then the account, before
        // any tool is started (even `terraform version`): credentials of another account change nothing.
        await CheckApplicationSourceAsync(cancellationToken);
        if (Settings.AccountId is not null && Environment != DeployEnvironment.Local)
        {
            var session = await AwsAsync(cancellationToken);
            var repositories = IsPlanned(nameof(BuildImages)) && Registry is null ? SelectedRepositories() : [];
            var readsTfvarsSecret = Tfvars is null && Settings.RunsTerraform && new[] { nameof(TerraformPlan), nameof(TerraformApply), nameof(TerraformDestroy) }.Any(IsPlanned);
            var secrets = readsTfvarsSecret ? new[] { Settings.TfvarsSecretId } : [];
            var report = await Diagnosed(() => IdentityPreflight.RunAsync(session, ExpectedAccount, repositories, secrets, Log, cancellationToken));
            foreach (var item in report.Checked)
                Note(item);
        }
        var failed = (await CheckToolsAsync(ToolsForPlan(), cancellationToken)).Where(c => !c.Ok).ToList();
        if (failed.Count > 0)
            throw new PrerequisiteMissingException(string.Join("; ", failed.Select(c => $"{c.Name}: {c.Found}")), string.Join(" ", failed.Select(c => c.Fix)));
        await PreflightClusterAsync(cancellationToken);
    }

    private async Task WhoamiAsync(CancellationToken cancellationToken)
    {
        var session = await AwsAsync(cancellationToken);
        var identity = await Diagnosed(() => session.Sts.GetCallerIdentityAsync(cancellationToken));
        Log.Information("Identity: {Arn}", identity.Arn);
        Log.Information("Account:  {Account}{Check}", identity.Account, identity.Account == Settings.AccountId ? " (the environment's)" : $" — the environment lives in {Settings.AccountId}");
        Log.Information("Region:   {Region} ({Source})", session.Region, session.RegionSource);
        Log.Information("Credentials: {Source}", session.CredentialSource);
        Log.Information("Registry (EcrLogin, BuildImages, promotion): your own identity, {Registry}", Settings.Registry);
        Log.Information("Terraform (TerraformPlan/Apply): your own identity, state s3://{Bucket}/{Key}; in the cluster the stack's eks-deployer role (you must be in its eks_admin_iam_arns)", Settings.StateBucket, Settings.StateKey);
        if (Settings.HasWorkloads && Settings.ClusterName is not null)
        {
            var role = ClusterRole();
            Log.Information("Cluster (KustomizeApply, rollouts, SeedApps): {Arn} ({Source}) on {Cluster}", role.Arn, role.Source, Settings.ClusterName);
        }
        Note($"{identity.Arn} in {identity.Account}");
    }

    /// <summary>
    /// The session the cluster is reached with: the team role assumed through STS, or the caller's own credentials when
    /// they already are a session of that role (assuming a role from itself needs a trust policy that allows it).
    /// </summary>
    private Task<ClusterSession> ClusterSessionAsync(CancellationToken cancellationToken) => _run.ClusterSession.GetAsync(async () =>
    {
        var session = await AwsAsync(cancellationToken);
        var role = ClusterRole();
        var identity = await Diagnosed(() => session.Sts.GetCallerIdentityAsync(cancellationToken));
        if (identity.IsSessionOf(role.Arn))
            return new ClusterSession(role, session, true);
        var assumed = await Diagnosed(() => session.Sts.AssumeRoleAsync(role.Arn, RoleSessionName.Create(RoleSessionName.CurrentActor(session.Environment), DateTimeOffset.UtcNow), cancellationToken));
        return new ClusterSession(role, session.WithRole(assumed), false);
    });

    private ClusterRole ClusterRole() =>
        TeamRoles.Resolve(Settings.Id, ExpectedAccount, ParameterSources.ContainsKey(nameof(Role)) ? ParameterDescriptor.Kebab(Role.ToString()) : null,
            EnvironmentVariables.GetValueOrDefault("AWS_EKS_ROLE_ARN"));

    private async Task LoginToEcrAsync(CancellationToken cancellationToken)
    {
        var credentials = await EcrCredentialsAsync(cancellationToken);
        var ecr = await Diagnosed(() => credentials.GetAsync(cancellationToken));
        var registry = Settings.Registry!;
        await new DockerCli(Runner, DockerOptions).LoginAsync(registry, ecr.Username, ecr.Password, cancellationToken);
        Note($"docker logged in to {registry} (token valid until {ecr.ExpiresAt:u}; refreshed before each use when it expires)");
    }

    /// <summary>The tfvars text from Secrets Manager; never printed.</summary>
    private async Task<string> ReadSecretAsync(string secretId, CancellationToken cancellationToken)
    {
        var session = await AwsAsync(cancellationToken);
        var text = await Diagnosed(() => session.SecretsManager.GetSecretStringAsync(secretId, cancellationToken));
        // The client registers the whole text; each value is registered by the tfvars parser, which knows which ones
        // are public ("production" must stay readable).
        return text;
    }

    private async Task WriteKubeconfigAsync(CancellationToken cancellationToken)
    {
        var session = await AwsAsync(cancellationToken);
        var cluster = await Diagnosed(() => session.Eks.DescribeClusterAsync(Settings.ClusterName!, cancellationToken));
        var role = ClusterRole();
        var path = EnvironmentVariables.GetValueOrDefault("KUBECONFIG")?.Split(Path.PathSeparator)[0]
            ?? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".kube", "config");
        if (IsDryRun)
        {
            Log.Information("[dry-run] would add context {Context} to {Path}", Settings.ClusterName, path);
            return;
        }
        await KubeconfigContextWriter.WriteAsync(path, Settings.ClusterName!, cluster, session.Region, role.Arn, AwsProfile, makeCurrent: false, cancellationToken);
        Note($"context {Settings.ClusterName} written to {path} (current context unchanged): kubectl --context {Settings.ClusterName} get pods -n tesslate");
    }

    /// <summary>An AWS failure, with the troubleshooting table's cause and fix when it recognises the symptom.</summary>
    private async Task<T> Diagnosed<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (BuildFailure failure) when (failure is not UsageException)
        {
            var role = Settings.HasWorkloads && Settings.ClusterName is not null ? ClusterRole() : null;
            var context = new AwsFailureContext(Settings.Id, role?.Role, role?.Arn, Settings.ClusterName, Settings.Registry, Settings.Region, AwsProfile);
            if (AwsTroubleshooting.Diagnose(failure, context) is { } diagnosis)
                throw new BuildFailure($"{failure.Problem}{System.Environment.NewLine}  Likely cause: {diagnosis.Cause}", diagnosis.Fix, failure);
            throw;
        }
    }
}
