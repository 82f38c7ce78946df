using System.Net;
using Tesslate.Build.Aws;
using Tesslate.Build.Platform;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

public sealed class AwsTroubleshootingTests
{
    private static readonly AwsFailureContext Beta = new("beta", "debugger", "arn:aws:iam::859561299901:role/tesslate-beta-eks-team-debugger",
        "tesslate-beta-eks", "859561299901.dkr.ecr.us-east-1.amazonaws.com", "us-east-1", "tesslate");

    [Fact]
    public void No_credentials_says_to_log_in() =>
        Assert.Equal("no AWS credentials", AwsTroubleshooting.Diagnose("No AWS credentials found (no AWS_ACCESS_KEY_ID, …)", Beta)!.Symptom);

    [Fact]
    public void The_legacy_empty_account_arn_is_a_credentials_problem() =>
        Assert.Equal("no AWS credentials", AwsTroubleshooting.Diagnose("Can you assume role 'arn:aws:iam:::role/tesslate-beta-eks-team-admin'?", Beta)!.Symptom);

    [Fact]
    public void Expired_sso_session_says_aws_sso_login_with_the_profile()
    {
        var diagnosis = AwsTroubleshooting.Diagnose("The AWS SSO session of profile 'tesslate' has expired or was never started.", Beta)!;
        Assert.Equal("aws sso login --profile tesslate", diagnosis.Fix);
    }

    [Fact]
    public void Access_denied_on_describe_cluster_says_to_assume_a_team_role()
    {
        var error = AwsServiceException.From(new AwsError(AwsService.Eks, "DescribeCluster", HttpStatusCode.Forbidden, "AccessDeniedException",
            "User: arn:aws:iam::859561299901:user/bob is not authorized to perform: eks:DescribeCluster on resource: …"));
        var diagnosis = AwsTroubleshooting.Diagnose(error, Beta)!;
        Assert.Equal("AccessDenied on eks:DescribeCluster", diagnosis.Symptom);
        Assert.Contains("--role debugger", diagnosis.Fix);
    }

    [Fact]
    public void Not_allowed_to_assume_the_team_role_names_the_iam_group_to_join()
    {
        var error = AwsServiceException.From(new AwsError(AwsService.Sts, "AssumeRole", HttpStatusCode.Forbidden, "AccessDenied",
            "User: arn:aws:iam::859561299901:user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::859561299901:role/tesslate-beta-eks-team-debugger"));
        var diagnosis = AwsTroubleshooting.Diagnose(error, Beta)!;
        Assert.Contains("tesslate-beta-debuggers", diagnosis.Cause);
        Assert.Contains("--group-name tesslate-beta-debuggers", diagnosis.Fix);
    }

    [Fact]
    public void Cluster_not_found_points_at_region_and_account()
    {
        var error = AwsServiceException.From(new AwsError(AwsService.Eks, "DescribeCluster", HttpStatusCode.NotFound, "ResourceNotFoundException", "No cluster found for name: tesslate-beta-eks."));
        var diagnosis = AwsTroubleshooting.Diagnose(error, Beta with { Region = "eu-west-1" })!;
        Assert.Equal("cluster not found", diagnosis.Symptom);
        Assert.Contains("eu-west-1", diagnosis.Cause);
    }

    [Fact]
    public void Ecr_unauthorized_says_to_log_in_to_the_registry_again()
    {
        var diagnosis = AwsTroubleshooting.Diagnose("failed to push 859561299901.dkr.ecr.us-east-1.amazonaws.com/tesslate-backend:beta: unauthorized: authentication required", Beta)!;
        Assert.Equal("ECR unauthorized", diagnosis.Symptom);
        Assert.Contains("docker login --username AWS --password-stdin 859561299901.dkr.ecr.us-east-1.amazonaws.com", diagnosis.Fix);
    }

    [Fact]
    public void Unknown_failures_have_no_diagnosis() => Assert.Null(AwsTroubleshooting.Diagnose("disk full", Beta));
}
