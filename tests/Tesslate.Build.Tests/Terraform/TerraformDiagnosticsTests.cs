using Tesslate.Build.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Terraform;

/// <summary>
/// Terraform's diagnostics about variables, as Terraform 1.11.4 printed them for a stack declaring environment (with
/// default), domain_name and cloudflare_api_token (without), planned with a tfvars file that sets four undeclared
/// variables and with -var aws_account_id (undeclared).
/// </summary>
public sealed class TerraformDiagnosticsTests
{
    // terraform plan -no-color …: stdout then stderr, as captured.
    private const string Plain = """

        Warning: Value for undeclared variable

        The root module does not declare a variable named "letsencrypt_email" but a
        value was found in file "/tmp/tfdiag/t.tfvars". If you meant to use this
        value, add a "variable" block to the configuration.

        To silence these warnings, use TF_VAR_... environment variables to provide
        certain "global" settings to all configurations in your organization. To
        reduce the verbosity of these warnings, use the -compact-warnings option.

        Warning: Value for undeclared variable

        The root module does not declare a variable named "app_extra_secrets" but a
        value was found in file "/tmp/tfdiag/t.tfvars". If you meant to use this
        value, add a "variable" block to the configuration.

        To silence these warnings, use TF_VAR_... environment variables to provide
        certain "global" settings to all configurations in your organization. To
        reduce the verbosity of these warnings, use the -compact-warnings option.

        Warning: Values for undeclared variables

        In addition to the other similar warnings shown, 2 other variable(s) defined
        without being declared.

        Error: Value for undeclared variable

        A variable named "aws_account_id" was assigned on the command line, but the
        root module does not declare a variable of that name. To use this value, add
        a "variable" block to the configuration.

        Error: No value for required variable

          on variables.tf line 6:
           6: variable "domain_name" {

        The root module input variable "domain_name" is not set, and has no default
        value. Use a -var or -var-file command line argument to provide a value for
        this variable.

        Error: No value for required variable

          on variables.tf line 10:
          10: variable "cloudflare_api_token" {

        The root module input variable "cloudflare_api_token" is not set, and has no
        default value. Use a -var or -var-file command line argument to provide a
        value for this variable.
        """;

    // terraform plan … with colours: the boxed form (escape codes as Terraform writes them).
    private static readonly string Boxed = string.Join('\n',
        "\u001b[33m╷\u001b[0m\u001b[0m",
        "\u001b[33m│\u001b[0m \u001b[0m\u001b[1m\u001b[33mWarning: \u001b[0m\u001b[0m\u001b[1mValue for undeclared variable\u001b[0m",
        "\u001b[33m│\u001b[0m \u001b[0m",
        "\u001b[33m│\u001b[0m \u001b[0m\u001b[0mThe root module does not declare a variable named \"app_extra_secrets\" but a",
        "\u001b[33m│\u001b[0m \u001b[0mvalue was found in file \"/tmp/tfdiag/t.tfvars\". If you meant to use this",
        "\u001b[33m│\u001b[0m \u001b[0mvalue, add a \"variable\" block to the configuration.",
        "\u001b[33m│\u001b[0m \u001b[0m",
        "\u001b[33m│\u001b[0m \u001b[0mTo silence these warnings, use TF_VAR_... environment variables to provide",
        "\u001b[33m│\u001b[0m \u001b[0mcertain \"global\" settings to all configurations in your organization. To",
        "\u001b[33m│\u001b[0m \u001b[0mreduce the verbosity of these warnings, use the -compact-warnings option.",
        "\u001b[33m╵\u001b[0m\u001b[0m",
        "\u001b[31m╷\u001b[0m\u001b[0m",
        "\u001b[31m│\u001b[0m \u001b[0m\u001b[1m\u001b[31mError: \u001b[0m\u001b[0m\u001b[1mNo value for required variable\u001b[0m",
        "\u001b[31m│\u001b[0m \u001b[0m",
        "\u001b[31m│\u001b[0m \u001b[0m\u001b[0m  on variables.tf line 6:",
        "\u001b[31m│\u001b[0m \u001b[0m   6: \u001b[4mvariable \"domain_name\"\u001b[0m {\u001b[0m",
        "\u001b[31m│\u001b[0m \u001b[0m",
        "\u001b[31m│\u001b[0m \u001b[0mThe root module input variable \"domain_name\" is not set, and has no default",
        "\u001b[31m│\u001b[0m \u001b[0mvalue. Use a -var or -var-file command line argument to provide a value for",
        "\u001b[31m│\u001b[0m \u001b[0mthis variable.",
        "\u001b[31m╵\u001b[0m\u001b[0m");

    [Fact]
    public void Plain_diagnostics_are_read_with_severity_summary_subject_and_the_joined_detail()
    {
        var diagnostics = TerraformDiagnostics.Parse(Plain.Split('\n'));

        Assert.Equal(6, diagnostics.Count);
        Assert.Equal(DiagnosticSeverity.Error, diagnostics[4].Severity);
        Assert.Equal("No value for required variable", diagnostics[4].Summary);
        Assert.Equal("variables.tf line 6", diagnostics[4].Subject);
        Assert.StartsWith("The root module input variable \"domain_name\" is not set, and has no default value.", diagnostics[4].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_variable_problem_is_named_and_the_undeclared_ones_terraform_only_counts_are_counted()
    {
        var (problems, more) = TerraformDiagnostics.VariableProblems(TerraformDiagnostics.Parse(Plain.Split('\n')));

        Assert.Equal(
            [
                (VariableProblemKind.Undeclared, "letsencrypt_email", "/tmp/tfdiag/t.tfvars"),
                (VariableProblemKind.Undeclared, "app_extra_secrets", "/tmp/tfdiag/t.tfvars"),
                (VariableProblemKind.UndeclaredOnCommandLine, "aws_account_id", null),
                (VariableProblemKind.Missing, "domain_name", "variables.tf line 6"),
                (VariableProblemKind.Missing, "cloudflare_api_token", "variables.tf line 10"),
            ],
            problems.Select(p => (p.Kind, p.Variable, p.Where)));
        Assert.Equal(2, more);
        Assert.Equal(3, problems.Count(p => p.StopsThePlan));
    }

    [Fact]
    public void The_boxed_coloured_form_gives_the_same_problems()
    {
        var (problems, _) = TerraformDiagnostics.VariableProblems(TerraformDiagnostics.Parse(Boxed.Split('\n')));

        Assert.Equal(
            [(VariableProblemKind.Undeclared, "app_extra_secrets"), (VariableProblemKind.Missing, "domain_name")],
            problems.Select(p => (p.Kind, p.Variable)));
    }

    [Fact]
    public void Other_diagnostics_are_no_variable_problems()
    {
        var lines = new[] { "", "Error: Invalid value for variable", "", "  on variables.tf line 3:", "   3: variable \"environment\" {", "", "environment must be beta or production." };

        var (problems, more) = TerraformDiagnostics.VariableProblems(TerraformDiagnostics.Parse(lines));

        Assert.Empty(problems);
        Assert.Equal(0, more);
    }
}
