using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Aws;

/// <summary>What the preflight found: who, which account, region, and the reads that succeeded.</summary>
public sealed record PreflightReport(CallerIdentity Identity, string Region, string CredentialSource, IReadOnlyList<string> Checked);

/// <summary>
/// Before any side effect in an AWS environment: the credentials must belong to the expected account, and the cheap reads
/// the run depends on (ECR repositories, Secrets Manager secret metadata) must succeed. No IAM simulation.
/// </summary>
public static class IdentityPreflight
{
    /// <summary>The judgement alone: a mismatch names both accounts and where the credentials came from.</summary>
    /// <param name="choices">How the caller's user chooses a profile, for the fix.</param>
    public static void VerifyAccount(CallerIdentity identity, string expectedAccount, string? profile, string credentialSource, AwsChoices? choices = null)
    {
        var choose = (choices ?? AwsChoices.None).Profile;
        if (string.Equals(identity.Account, expectedAccount, StringComparison.Ordinal))
            return;
        var using_ = profile is null ? credentialSource : $"profile '{profile}'";
        throw new BuildFailure(
            $"The AWS credentials in use ({using_}, {identity.Arn}) belong to account {identity.Account}, but this environment lives in account {expectedAccount}.",
            profile is null
                ? $"Use credentials for account {expectedAccount}: {(choose is null ? $"set AWS_PROFILE=<profile-for-{expectedAccount}>" : $"pass {choose} <profile-for-{expectedAccount}> or set AWS_PROFILE")}."
                : $"Profile '{profile}' points at account {identity.Account}; {(choose is null ? "choose" : $"pass {choose} with")} a profile for account {expectedAccount}.");
    }

    public static async Task<PreflightReport> RunAsync(AwsSession session, string expectedAccount, IReadOnlyCollection<string> ecrRepositories,
        IReadOnlyCollection<string> secretIds, ILogger logger, CancellationToken cancellationToken)
    {
        var identity = await session.Sts.GetCallerIdentityAsync(cancellationToken);
        VerifyAccount(identity, expectedAccount, session.Profile, session.CredentialSource, session.Options.Choices);
        var checkedItems = new List<string> { $"identity {identity.Arn} in account {identity.Account}" };
        if (ecrRepositories.Count > 0)
        {
            var found = await session.Ecr.DescribeRepositoriesAsync(ecrRepositories, cancellationToken);
            checkedItems.AddRange(found.Select(r => $"ECR repository {r.Name}"));
        }
        foreach (var secretId in secretIds)
        {
            await session.SecretsManager.DescribeSecretAsync(secretId, cancellationToken);
            checkedItems.Add($"secret {secretId}");
        }
        logger.Debug("AWS preflight: {Checked}", string.Join("; ", checkedItems));
        return new PreflightReport(identity, session.Region, session.CredentialSource, checkedItems);
    }
}
