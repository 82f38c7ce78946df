namespace Tesslate.Build.Platform;

/// <summary>The EKS team roles (legacy --role); the default is admin, as the legacy script's.</summary>
public enum TeamRole
{
    Observer,
    Deployer,
    Debugger,
    Admin,
    EksDeployer,
}

public enum SeedFailurePolicy
{
    Warn,
    Fail,
}
