using Tesslate.Build.Engine;
using Tesslate.Build.Platform;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

public sealed class TeamRolesTests
{
    private const string Account = "859561299901";

    [Theory]
    [InlineData("observer", "arn:aws:iam::859561299901:role/tesslate-beta-eks-team-observer")]
    [InlineData("deployer", "arn:aws:iam::859561299901:role/tesslate-beta-eks-team-deployer")]
    [InlineData("debugger", "arn:aws:iam::859561299901:role/tesslate-beta-eks-team-debugger")]
    [InlineData("admin", "arn:aws:iam::859561299901:role/tesslate-beta-eks-team-admin")]
    [InlineData("eks-deployer", "arn:aws:iam::859561299901:role/tesslate-beta-eks-eks-deployer")]
    public void Each_role_maps_to_the_clusters_team_role(string role, string arn) =>
        Assert.Equal(arn, TeamRoles.Resolve("beta", Account, role, null).Arn);

    [Fact]
    public void The_default_role_is_admin()
    {
        var role = TeamRoles.Resolve("production", Account, null, null);
        Assert.Equal("arn:aws:iam::859561299901:role/tesslate-production-eks-team-admin", role.Arn);
        Assert.Equal("default", role.Source);
    }

    [Fact]
    public void AWS_EKS_ROLE_ARN_overrides_the_role()
    {
        var role = TeamRoles.Resolve("beta", Account, "observer", "arn:aws:iam::111122223333:role/custom/Path-Role");
        Assert.Equal("arn:aws:iam::111122223333:role/custom/Path-Role", role.Arn);
        Assert.Equal("AWS_EKS_ROLE_ARN", role.Source);
    }

    [Theory]
    [InlineData("tesslate-beta-eks-team-admin")]
    [InlineData("arn:aws:iam::8595612999:role/x")]
    [InlineData("arn:aws:iam::859561299901:user/alice")]
    public void An_AWS_EKS_ROLE_ARN_that_is_not_a_role_arn_is_a_usage_error(string value)
    {
        var error = Assert.Throws<UsageException>(() => TeamRoles.Resolve("beta", Account, null, value));
        Assert.Contains("AWS_EKS_ROLE_ARN", error.Problem);
    }

    [Fact]
    public void An_unknown_role_lists_the_valid_ones()
    {
        var error = Assert.Throws<UsageException>(() => TeamRoles.Resolve("beta", Account, "root", null));
        Assert.Contains("'root'", error.Problem);
        Assert.Contains("observer, deployer, debugger, admin, eks-deployer", error.Fix);
    }

    [Fact]
    public void Shared_has_no_team_roles()
    {
        var error = Assert.Throws<UsageException>(() => TeamRoles.Resolve("shared", Account, "admin", null));
        Assert.Contains("shared", error.Problem);
    }

    [Fact]
    public void Team_role_groups_are_plural() => Assert.Equal("tesslate-beta-debuggers", TeamRoles.GroupFor("beta", "debugger"));
}
