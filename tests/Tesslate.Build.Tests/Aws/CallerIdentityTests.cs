using Tesslate.Build.Aws;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

public sealed class CallerIdentityTests
{
    [Theory]
    [InlineData("arn:aws:sts::859561299901:assumed-role/tesslate-beta-eks-team-admin/gh-alice-20261128T160000Z", "arn:aws:iam::859561299901:role/tesslate-beta-eks-team-admin", true)]
    [InlineData("arn:aws:sts::859561299901:assumed-role/ops/session", "arn:aws:iam::859561299901:role/teams/ops", true)]
    [InlineData("arn:aws:sts::859561299901:assumed-role/tesslate-beta-eks-team-admin/s", "arn:aws:iam::111111111111:role/tesslate-beta-eks-team-admin", false)]
    [InlineData("arn:aws:sts::859561299901:assumed-role/tesslate-beta-eks-team-deployer/s", "arn:aws:iam::859561299901:role/tesslate-beta-eks-team-admin", false)]
    [InlineData("arn:aws:iam::859561299901:user/tesslate-beta-eks-team-admin", "arn:aws:iam::859561299901:role/tesslate-beta-eks-team-admin", false)]
    public void Credentials_are_a_session_of_a_role_only_for_that_role_name_in_that_account(string caller, string role, bool expected) =>
        Assert.Equal(expected, new CallerIdentity("859561299901", caller, "AROA:s").IsSessionOf(role));
}
