using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Aws;

/// <summary>Credentials the run will sign with, where they came from, and the profile's region if a profile was used.</summary>
public sealed record ResolvedCredentials(AWSCredentials Credentials, string Source, string? Profile, string? ProfileRegion);

/// <summary>
/// Finds credentials like the AWS CLI: an explicit profile (the pipeline's <c>--aws-profile</c>; incl. SSO and role profiles) is used as asked;
/// otherwise AWSSDK.Core's default chain (environment keys, web identity for GitHub OIDC, AWS_PROFILE / default profile).
/// Every way of failing becomes a <see cref="PrerequisiteMissingException"/> that says how to log in.
/// </summary>
public static class AwsCredentialChain
{
    /// <param name="choices">How the caller's user chooses a profile: the source of an explicit one, and the fixes.</param>
    public static async Task<ResolvedCredentials> ResolveAsync(string? profile, AwsEnvironment environment, CancellationToken cancellationToken, AwsChoices? choices = null)
    {
        choices ??= AwsChoices.None;
        var profileName = profile ?? environment.Get("AWS_PROFILE");
        var store = new CredentialProfileStoreChain();
        ResolvedCredentials resolved;
        if (profile is not null)
        {
            resolved = FromProfile(store, profile, AwsChoices.ExplicitSource(choices.Profile), choices);
        }
        else if (environment.Get("AWS_ACCESS_KEY_ID") is { } keyId && environment.Get("AWS_SECRET_ACCESS_KEY") is { } secret)
        {
            // The chain's first source, read from the run's environment (which a test or an embedding host may give
            // explicitly) rather than only the process's.
            var sessionToken = environment.Get("AWS_SESSION_TOKEN");
            global::Tesslate.Build.Engine.Secrets.Register(secret);
            global::Tesslate.Build.Engine.Secrets.Register(sessionToken);
            AWSCredentials keys = sessionToken is null ? new BasicAWSCredentials(keyId, secret) : new SessionAWSCredentials(keyId, secret, sessionToken);
            resolved = new ResolvedCredentials(keys, "environment variables", null, null);
        }
        else
        {
            try
            {
                using var resolver = new DefaultAWSCredentialsIdentityResolver();
                var credentials = await resolver.ResolveIdentityAsync(null, cancellationToken);
                var region = profileName is not null && store.TryGetProfile(profileName, out var p) ? p.Region?.SystemName : RegionOfDefaultProfile(store);
                resolved = new ResolvedCredentials(credentials, Describe(credentials, profileName), profileName, region);
            }
            catch (ProfileNotFoundException)
            {
                throw ProfileMissing(profileName ?? "default", "AWS_PROFILE", choices);
            }
            catch (AmazonClientException e) when (profileName is not null && store.TryGetProfile(profileName, out _))
            {
                // The default chain refuses SSO profiles; resolving the named profile directly supports them.
                _ = e;
                resolved = FromProfile(store, profileName, "AWS_PROFILE", choices);
            }
            catch (AmazonClientException e) when (store.TryGetProfile("default", out _) && environment.Get("AWS_ACCESS_KEY_ID") is null)
            {
                _ = e;
                resolved = FromProfile(store, "default", "default profile", choices);
            }
            catch (AmazonClientException e)
            {
                throw NoCredentials(e, choices);
            }
        }

        await ProbeAsync(resolved, cancellationToken);
        return resolved;
    }

    /// <summary>
    /// The region of the profile the AWS CLI would read settings from: <paramref name="profile"/>, else AWS_PROFILE, else
    /// [default] (also when the keys come from environment variables, as the CLI does).
    /// </summary>
    public static string? ProfileRegion(string? profile, AwsEnvironment environment) =>
        HasProfileFiles(environment) ? RegionOfProfile(profile ?? environment.Get("AWS_PROFILE") ?? "default") : null;

    // Its own method, not inlined: the SDK's assembly loads when this runs, not whenever ProfileRegion does.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static string? RegionOfProfile(string name) =>
        new CredentialProfileStoreChain().TryGetProfile(name, out var found) ? found.Region?.SystemName : null;

    // No shared config or credentials file means no profile: then the SDK (about 30 ms to load) is not asked at all.
    // Windows also has the SDK's encrypted store, so there the SDK always answers.
    private static bool HasProfileFiles(AwsEnvironment environment)
    {
        if (OperatingSystem.IsWindows())
            return true;
        var home = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
        string[] files =
        [
            environment.Get("AWS_CONFIG_FILE") ?? Path.Combine(home, ".aws", "config"),
            environment.Get("AWS_SHARED_CREDENTIALS_FILE") ?? Path.Combine(home, ".aws", "credentials"),
            // The SDK itself reads these two from the process's variables.
            System.Environment.GetEnvironmentVariable("AWS_CONFIG_FILE") ?? "",
            System.Environment.GetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE") ?? "",
        ];
        return files.Any(f => f.Length > 0 && File.Exists(f));
    }

    /// <summary>Fetches the key pair once (SSO and role profiles do network work here) and registers the secret parts.</summary>
    private static async Task ProbeAsync(ResolvedCredentials resolved, CancellationToken cancellationToken)
    {
        ImmutableCredentials keys;
        try
        {
            keys = await resolved.Credentials.GetCredentialsAsync().WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is AmazonClientException or InvalidOperationException && IsSsoFailure(e))
        {
            throw SsoExpired(resolved.Profile, e);
        }
        catch (AmazonClientException e)
        {
            throw new PrerequisiteMissingException($"AWS credentials from {resolved.Source} could not be loaded: {e.Message}",
                LoginFix(resolved.Profile), e);
        }
        Secrets.Register(keys.SecretKey);
        Secrets.Register(keys.Token);
    }

    private static ResolvedCredentials FromProfile(CredentialProfileStoreChain store, string profile, string origin, AwsChoices choices)
    {
        if (!store.TryGetProfile(profile, out var found))
            throw ProfileMissing(profile, origin, choices);
        try
        {
            if (!store.TryGetAWSCredentials(profile, out var credentials))
                throw new PrerequisiteMissingException($"AWS profile '{profile}' ({origin}) has no usable credentials.",
                    $"Add keys, sso_session or role_arn/source_profile to [profile {profile}] in ~/.aws/config, or run 'aws configure --profile {profile}'.");
            return new ResolvedCredentials(credentials, $"profile '{profile}' ({origin})", profile, found.Region?.SystemName);
        }
        catch (Exception e) when (e is AmazonClientException or InvalidOperationException && IsSsoFailure(e))
        {
            throw SsoExpired(profile, e);
        }
    }

    private static string? RegionOfDefaultProfile(CredentialProfileStoreChain store) =>
        store.TryGetProfile("default", out var p) ? p.Region?.SystemName : null;

    internal static bool IsSsoFailure(Exception e) =>
        e.Message.Contains("SSO", StringComparison.Ordinal) || e.InnerException?.Message.Contains("SSO", StringComparison.Ordinal) == true;

    private static string Describe(AWSCredentials credentials, string? profile) => credentials switch
    {
        EnvironmentVariablesAWSCredentials => "environment variables",
        AssumeRoleWithWebIdentityCredentials => "web identity (OIDC)",
        _ when profile is not null => $"profile '{profile}'",
        _ => credentials.GetType().Name,
    };

    private static PrerequisiteMissingException ProfileMissing(string profile, string origin, AwsChoices choices) =>
        new($"AWS profile '{profile}' ({origin}) does not exist in ~/.aws/config or ~/.aws/credentials.",
            $"Create it with 'aws configure sso --profile {profile}' or 'aws configure --profile {profile}', or {(choices.Profile is { } choose ? $"pass an existing profile with {choose}" : "set AWS_PROFILE to an existing profile")}.");

    private static PrerequisiteMissingException NoCredentials(Exception inner, AwsChoices choices) =>
        new("No AWS credentials found (no AWS_ACCESS_KEY_ID, no web identity token, no usable profile).",
            $"Log in first: 'aws sso login --profile <name>' and {(choices.Profile is { } choose ? $"pass {choose} <name> (or set AWS_PROFILE)" : "set AWS_PROFILE=<name>")}, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.",
            inner);

    internal static PrerequisiteMissingException SsoExpired(string? profile, Exception inner) =>
        new($"The AWS SSO session{(profile is null ? "" : $" of profile '{profile}'")} has expired or was never started.",
            $"Run 'aws sso login{(profile is null ? "" : $" --profile {profile}")}' and rerun.", inner);

    private static string LoginFix(string? profile) =>
        profile is null ? "Check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or your profile." : $"Run 'aws sso login --profile {profile}' or fix [profile {profile}] in ~/.aws/config.";
}
