using Tesslate.Build.Engine;
using Tesslate.Build.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Terraform;

public sealed class TfvarsFileTests
{
    private const string Password = "tfvars-db-password-7Qz1";
    private const string ApiToken = "cf-api-token-LINE2-93kd";

    private static readonly string Sample = $$"""
        # Terraform variables for beta
        environment  = "beta"
        aws_region   = "us-east-1"
        db_password  = "{{Password}}"   # rotated quarterly
        eks_node_min_size = 1
        create_rds = false
        eks_admin_iam_arns = [
          "arn:aws:iam::123456789012:user/alice-tfvars-test",
          "arn:aws:iam::123456789012:user/bob-tfvars-test", // trailing comment
        ]
        additional_node_groups = {
          gpu = { instance_types = ["g5.xlarge"], desired_size = 0, labels = { "x" = "y" } }
        }
        /* block
           comment */
        cloudflare_api_token = <<-EOT
          first-line-of-token
          {{ApiToken}}
          EOT
        escaped = "quote \" inside"
        """;

    [Fact]
    public void Top_level_variables_are_found_across_multi_line_values()
    {
        var file = TfvarsFile.Parse(Sample, "beta.tfvars");

        Assert.Equal(["environment", "aws_region", "db_password", "eks_node_min_size", "create_rds", "eks_admin_iam_arns",
            "additional_node_groups", "cloudflare_api_token", "escaped"], file.VariableNames);
        Assert.Equal("beta", file.Environment);
        Assert.Equal("quote \" inside", file.TryGetString("escaped"));
        Assert.Equal("first-line-of-token\n" + ApiToken, file.TryGetString("cloudflare_api_token"));
        Assert.Null(file.TryGetString("eks_node_min_size"));
    }

    [Fact]
    public void The_matching_environment_passes()
    {
        TfvarsFile.Parse(Sample, "beta.tfvars").RequireEnvironment("beta", Choose);
    }

    [Fact]
    public void Production_tfvars_for_a_beta_run_stop_the_run_without_showing_values()
    {
        var file = TfvarsFile.Parse(Sample.Replace("\"beta\"", "\"production\""), "prod.tfvars");

        var error = Assert.Throws<BuildFailure>(() => file.RequireEnvironment("beta", Choose));

        Assert.Contains("'production'", error.Problem);
        Assert.Contains("'beta'", error.Problem);
        Assert.Equal($"Use the tfvars made for 'beta', or choose {Choose} production if that is what you meant.", error.Fix);
        Assert.DoesNotContain(Password, error.ToString());
    }

    // The caller's words for choosing an environment: the tfvars adapter names no flag of the pipeline.
    private const string Choose = "--env";

    [Fact]
    public void Tfvars_without_environment_stop_the_run_because_the_stack_would_default_to_production()
    {
        var file = TfvarsFile.Parse($"db_password = \"{Password}\"\n", "beta.tfvars");

        var error = Assert.Throws<BuildFailure>(() => file.RequireEnvironment("beta", Choose));

        Assert.Contains("does not set 'environment'", error.Problem);
        Assert.Contains("production", error.Problem);
        Assert.Contains("environment = \"beta\"", error.Fix);
    }

    [Fact]
    public void An_environment_that_is_not_a_plain_string_is_rejected()
    {
        var file = TfvarsFile.Parse("environment = var.x\n", "t.tfvars");

        Assert.Throws<BuildFailure>(() => file.RequireEnvironment("beta", Choose));
    }

    [Fact]
    public void Every_string_value_is_registered_as_a_secret_except_the_environment_and_public_ones()
    {
        var file = TfvarsFile.Parse(Sample.Replace("us-east-1", "us-test-9"), "beta.tfvars");

        file.RegisterSecrets(publicVariables: ["aws_region"]);

        Assert.Equal($"pw={SecretRegistry.Mask}", Secrets.Redact($"pw={Password}"));
        Assert.Equal(SecretRegistry.Mask, Secrets.Redact(ApiToken)); // one line of a multi-line value, as logs split it
        Assert.Equal(SecretRegistry.Mask, Secrets.Redact("arn:aws:iam::123456789012:user/alice-tfvars-test"));
        Assert.Equal("region us-test-9", Secrets.Redact("region us-test-9"));
        Assert.DoesNotContain(Password, file.ToString());
    }

    [Fact]
    public void A_syntax_error_names_the_line_and_not_the_value()
    {
        var error = Assert.Throws<BuildFailure>(() => TfvarsFile.Parse($"environment = \"beta\"\nsecret = \"{Password}\n", "t.tfvars"));

        Assert.Contains("line 2", error.Problem);
        Assert.DoesNotContain(Password, error.ToString());
    }

    [Fact]
    public void A_missing_file_is_a_failure_naming_the_path()
    {
        var error = Assert.Throws<BuildFailure>(() => TfvarsFile.Read("/nonexistent/beta.tfvars"));

        Assert.Contains("/nonexistent/beta.tfvars", error.Problem);
    }
}
