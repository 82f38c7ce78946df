using System.Text.RegularExpressions;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Platform;

/// <summary>The IAM role the cluster is reached with, and where the choice came from.</summary>
public sealed record ClusterRole(string Arn, string Role, string Source);

/// <summary>
/// Tesslate's EKS team roles (legacy <c>ensure_kubectl_context</c>): <c>--role observer|deployer|debugger|admin</c> →
/// <c>arn:aws:iam::&lt;account&gt;:role/tesslate-&lt;env&gt;-eks-team-&lt;role&gt;</c>, <c>eks-deployer</c> → the cluster's
/// <c>-eks-deployer</c> role; <c>AWS_EKS_ROLE_ARN</c> overrides with a full ARN. <c>shared</c> has no team roles.
/// </summary>
public static partial class TeamRoles
{
    public const string Default = "admin";

    public static IReadOnlyList<string> Valid { get; } = ["observer", "deployer", "debugger", "admin", "eks-deployer"];

    /// <param name="environment">beta or production (shared and local have no team roles).</param>
    /// <param name="account">The environment's AWS account id.</param>
    /// <param name="role">The --role value, or null for the default (admin).</param>
    /// <param name="roleArnOverride">AWS_EKS_ROLE_ARN, if set.</param>
    public static ClusterRole Resolve(string environment, string account, string? role, string? roleArnOverride)
    {
        if (environment is "shared" or "local")
            throw new UsageException($"--role does not apply to environment '{environment}': it has no EKS team roles or cluster workloads.",
                "Drop --role (and AWS_EKS_ROLE_ARN), or choose --environment beta|production.");
        if (!string.IsNullOrWhiteSpace(roleArnOverride))
        {
            var arn = roleArnOverride.Trim();
            if (!RoleArn().IsMatch(arn))
                throw new UsageException($"AWS_EKS_ROLE_ARN='{arn}' is not an IAM role ARN.",
                    $"Set it to a full ARN like arn:aws:iam::{EnvironmentTable.TesslateAccountId}:role/tesslate-beta-eks-team-admin, or unset it and use --role.");
            return new ClusterRole(arn, arn.Split('/').Last(), "AWS_EKS_ROLE_ARN");
        }
        var chosen = string.IsNullOrWhiteSpace(role) ? Default : role.Trim();
        if (!Valid.Contains(chosen, StringComparer.Ordinal))
            throw new UsageException($"Invalid --role: '{chosen}'.",
                $"Use one of: {string.Join(", ", Valid)} ('eks-deployer' is the legacy admin role).");
        if (!AccountId().IsMatch(account))
            throw new UsageException($"'{account}' is not a 12-digit AWS account id.", "Check the environment table.");
        var cluster = ClusterName(environment);
        var name = chosen == "eks-deployer" ? $"{cluster}-eks-deployer" : $"{cluster}-team-{chosen}";
        return new ClusterRole($"arn:aws:iam::{account}:role/{name}", chosen, role is null ? "default" : "--role");
    }

    /// <summary>The IAM group whose members may assume a team role: <c>tesslate-&lt;env&gt;-&lt;role&gt;s</c>.</summary>
    public static string GroupFor(string environment, string role) => $"tesslate-{environment}-{role}s";

    public static string ClusterName(string environment) => environment == "shared" ? "tesslate-platform-eks" : $"tesslate-{environment}-eks";

    [GeneratedRegex(@"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")]
    private static partial Regex RoleArn();

    [GeneratedRegex(@"^\d{12}$")]
    private static partial Regex AccountId();
}
