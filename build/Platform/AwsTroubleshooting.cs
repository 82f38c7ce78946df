using Tesslate.Build.Aws;

namespace Tesslate.Build.Platform;

/// <summary>A known failure: what it looks like, why it happens, what to do.</summary>
public sealed record Diagnosis(string Symptom, string Cause, string Fix);

/// <summary>What the run was doing when AWS failed, for a precise fix.</summary>
public sealed record AwsFailureContext(string Environment, string? Role = null, string? RoleArn = null, string? ClusterName = null,
    string? Registry = null, string? Region = null, string? Profile = null);

/// <summary>
/// The legacy troubleshooting table (§7) as a pure function: a failure's text (and type) in, a diagnosis out, or null
/// when nothing known matches.
/// </summary>
public static class AwsTroubleshooting
{
    public static Diagnosis? Diagnose(Exception failure, AwsFailureContext context) =>
        Diagnose(Flatten(failure), context, failure);

    public static Diagnosis? Diagnose(string text, AwsFailureContext context, Exception? failure = null)
    {
        var profileFlag = context.Profile is null ? "" : $" --profile {context.Profile}";
        var role = context.Role ?? TeamRoles.Default;

        if (Has(text, "SSO session") || Has(text, "SSO Token") || Has(text, "sso login") || Has(text, "Token has expired and refresh failed"))
            return new("expired SSO session", "The AWS SSO login has expired (they last 8–12 hours).",
                $"aws sso login{profileFlag}");

        if (failure is ExpiredTokenException || Has(text, "ExpiredToken"))
            return new("expired session token", "The temporary AWS credentials in use have expired.",
                $"Obtain fresh credentials (aws sso login{profileFlag}, or re-export the session keys) and rerun.");

        if (Has(text, "No AWS credentials found") || Has(text, "Failed to resolve AWS credentials") || Has(text, "Unable to locate credentials")
            || Has(text, "arn:aws:iam:::role/"))
            return new("no AWS credentials", "No credentials were found, so nothing downstream (account, role ARN) can be right.",
                "Fix credentials first: aws sso login --profile <name> and pass --aws-profile <name>, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.");

        if (Has(text, "sts:AssumeRole") && (Has(text, "not authorized") || Has(text, "AccessDenied")))
        {
            // AWS_EKS_ROLE_ARN can name any role: only team roles have a group to join.
            if (!TeamRoles.Valid.Contains(role, StringComparer.Ordinal))
                return new($"not allowed to assume the {role} role", $"The trust policy of {context.RoleArn ?? role} does not let your identity assume it.",
                    "Ask the role's owner to trust your identity, or unset AWS_EKS_ROLE_ARN and pass --role observer|deployer|debugger|admin.");
            var group = TeamRoles.GroupFor(context.Environment, role == "eks-deployer" ? "admin" : role);
            return new($"not allowed to assume the {role} role",
                $"Your IAM user is not in the '{group}' group, which may assume {context.RoleArn ?? "the team role"}.",
                $"Ask an admin: aws iam add-user-to-group --user-name <you> --group-name {group}; or pass a role you hold (--role observer|deployer|debugger), or AWS_EKS_ROLE_ARN=<full ARN>.");
        }

        if (Has(text, "eks:DescribeCluster") || Has(text, "unable to describe cluster")
            || (failure is AccessDeniedException { Error.Operation: "DescribeCluster" }))
            return new("AccessDenied on eks:DescribeCluster",
                "A raw IAM user was used: it is not in a team group or the cluster's admin list, so it cannot describe the cluster.",
                $"Assume a team role: pass --role {role} (the pipeline assumes it), or use a profile with role_arn/source_profile for {context.RoleArn ?? "the team role"}.");

        if ((failure is ResourceNotFoundException { Error.Service.Name: "EKS" }) || Has(text, "No cluster found") || (Has(text, "EKS cluster") && Has(text, "not found")))
            return new("cluster not found", $"There is no cluster {context.ClusterName ?? ""} in region {context.Region ?? "(current)"} for this account.",
                "Check --aws-region / AWS_REGION (the clusters live in us-east-1) and that the credentials are for the environment's account; for a new environment, run Terraform first.");

        if (Has(text, "unauthorized") && (Has(text, "ecr") || Has(text, ".dkr.") || Has(text, "docker login") || Has(text, "ErrImagePull") || context.Registry is not null && Has(text, context.Registry)))
            return new("ECR unauthorized", "The registry login expired, or it is for another account or region.",
                $"Rerun EcrLogin (or: aws ecr get-login-password --region {context.Region ?? "us-east-1"} | docker login --username AWS --password-stdin {context.Registry ?? "<registry>"}), then rebuild.");

        if (Has(text, "You must be logged in to the server") || Has(text, "(Unauthorized)"))
            return new("Kubernetes Unauthorized", "The cluster does not map this identity (raw IAM user, no access entry).",
                $"Use a team role: --role {role} or AWS_EKS_ROLE_ARN=<full ARN>.");

        return null;
    }

    private static bool Has(string text, string needle) => text.Contains(needle, StringComparison.OrdinalIgnoreCase);

    private static string Flatten(Exception failure)
    {
        var parts = new List<string>();
        for (Exception? e = failure; e is not null; e = e.InnerException)
            parts.Add(e.Message);
        return string.Join(" | ", parts);
    }
}
