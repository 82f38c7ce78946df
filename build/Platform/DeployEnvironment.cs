namespace Tesslate.Build.Platform;

public enum DeployEnvironment
{
    Local,
    Beta,
    Production,
    /// <summary>The platform stack (ECR, the internal tools cluster): Terraform only.</summary>
    Shared,
}

/// <summary>
/// Everything that differs between environments, in one typed place (legacy-pipeline.md §3). Tesslate's values are
/// the defaults; each can be overridden with a parameter (and so in .nuke/parameters.json), since others deploy the
/// open-source platform into their own accounts.
/// </summary>
public sealed record EnvironmentSettings
{
    public required DeployEnvironment Name { get; init; }

    public string Id => Name.ToString().ToLowerInvariant();

    /// <summary>The AWS account every AWS call must run in (null for local).</summary>
    public string? AccountId { get; init; }

    public string Region { get; init; } = "us-east-1";

    /// <summary>The EKS cluster (null for local, which uses a kube context).</summary>
    public string? ClusterName { get; init; }

    /// <summary>The kustomize overlay KustomizeApply applies, relative to the repository root.</summary>
    public string? Overlay { get; init; }

    public string? ComputeOverlay { get; init; }

    /// <summary>The Terraform stack folder, relative to the repository root (null: no Terraform).</summary>
    public string? TerraformStack { get; init; }

    public string StateBucket { get; init; } = EnvironmentTable.DefaultStateBucket;

    public string StateKey => $"{Id}/terraform.tfstate";

    public string BackendFile => $"backend-{Id}.hcl";

    /// <summary>Secrets Manager id holding the raw tfvars text.</summary>
    public string TfvarsSecretId => $"tesslate/terraform/{Id}";

    public string TfvarsFile => $"terraform.{Id}.tfvars";

    /// <summary>The tag that names what runs in this environment; moved only after its rollouts succeeded.</summary>
    public string? ImageTag { get; init; }

    /// <summary>The registry images are pushed to (host[:port]).</summary>
    public string? Registry { get; init; }

    public string? Domain { get; init; }

    /// <summary>Where the environment answers (the GitHub Deployment links it; Verify asks it).</summary>
    public string Url => $"https://{Domain}";

    public bool UsesEcr => AccountId is not null && Name != DeployEnvironment.Local;

    public bool RunsTerraform => TerraformStack is not null;

    /// <summary>
    /// The environment stack's tfvars name their environment (variable <c>environment</c>, checked before any plan);
    /// the shared stack has no such variable, and its live tfvars do not set one.
    /// </summary>
    public bool TfvarsNameTheEnvironment => Name is DeployEnvironment.Beta or DeployEnvironment.Production;

    /// <summary>
    /// What the pipeline passes to every plan as <c>-var</c> (after the tfvars, so these win): the account the aws
    /// provider may act in (its allowed_account_ids), and for the environment stacks the state bucket their CI and
    /// admin policies name. Names, never secrets: they are on the command line.
    /// </summary>
    public IReadOnlyDictionary<string, string> TerraformVariables
    {
        get
        {
            var variables = new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (!RunsTerraform)
                return variables;
            if (AccountId is not null)
                variables["aws_account_id"] = AccountId;
            if (Name is DeployEnvironment.Beta or DeployEnvironment.Production)
                variables["terraform_state_bucket"] = StateBucket;
            return variables;
        }
    }

    public bool HasWorkloads => Overlay is not null;

    /// <summary>Production asks for one approval before the first mutation.</summary>
    public bool RequiresApproval => Name == DeployEnvironment.Production;
}

public static class EnvironmentTable
{
    public const string TesslateAccountId = "859561299901";

    /// <summary>The real bucket name is not public; override with --state-bucket or "StateBucket" in .nuke/parameters.json.</summary>
    public const string DefaultStateBucket = "tesslate-terraform-state";

    public const string LocalRegistry = "localhost:5000";

    public static EnvironmentSettings Defaults(DeployEnvironment environment) => environment switch
    {
        DeployEnvironment.Local => new()
        {
            Name = environment,
            Overlay = "k8s/overlays/local",
            ImageTag = "local",
            Registry = LocalRegistry,
            Domain = "localhost",
        },
        DeployEnvironment.Beta => Aws(environment, "tesslate-beta-eks", domain: "beta.opensail.tesslate.com"),
        DeployEnvironment.Production => Aws(environment, "tesslate-production-eks", domain: "opensail.tesslate.com"),
        DeployEnvironment.Shared => new()
        {
            Name = environment,
            AccountId = TesslateAccountId,
            ClusterName = "tesslate-platform-eks",
            TerraformStack = "terraform/shared",
            Registry = EcrRegistry(TesslateAccountId, "us-east-1"),
            Domain = "tesslate.com",
        },
        _ => throw new ArgumentOutOfRangeException(nameof(environment)),
    };

    public static string EcrRegistry(string accountId, string region) => $"{accountId}.dkr.ecr.{region}.amazonaws.com";

    private static EnvironmentSettings Aws(DeployEnvironment environment, string cluster, string domain)
    {
        var id = environment.ToString().ToLowerInvariant();
        return new()
        {
            Name = environment,
            AccountId = TesslateAccountId,
            ClusterName = cluster,
            Overlay = $"k8s/overlays/aws-{id}",
            ComputeOverlay = $"k8s/overlays/aws-{id}/compute",
            TerraformStack = "terraform/aws",
            ImageTag = id,
            Registry = EcrRegistry(TesslateAccountId, "us-east-1"),
            Domain = domain,
        };
    }
}
