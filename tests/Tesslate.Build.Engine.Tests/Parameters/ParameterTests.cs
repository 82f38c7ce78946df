using Xunit;

namespace Tesslate.Build.Engine.Tests;

public enum Stage
{
    Local,
    Beta,
    EarlyAccess,
}

public sealed class ParameterTests : IDisposable
{
    private sealed class Parameters
    {
        [Parameter("Where")] public readonly Stage Stage = Stage.Local;
        [Parameter("Images")] public readonly string[] Images = [];
        [Parameter("Parallelism", Positive = true)] public readonly int Parallelism = 4;
        [Parameter("Timeout", Positive = true)] public readonly TimeSpan Timeout = TimeSpan.FromMinutes(30);
        [Parameter("Switch")] public readonly bool Force;
        [Parameter("Text")] public readonly string? SourceRoot;
        [Parameter("Token")][Secret] public readonly string? GitHubToken;
        [Parameter("Count", Minimum = 0)] public readonly int? Replicas;
        [Parameter("Ports", Positive = true)] public readonly int[] Ports = [];
        [Parameter("Stages")] public readonly Stage[] Stages = [];
        [Parameter("Waits")] public readonly TimeSpan[] Waits = [];
    }

    private readonly string _nuke = Directory.CreateTempSubdirectory("params").FullName;

    public ParameterTests() => Secrets.BeginScope();

    public void Dispose() => Directory.Delete(_nuke, recursive: true);

    private Parameters Bind(string[] args, Dictionary<string, string>? environment = null, string[]? profiles = null)
    {
        var target = new Parameters();
        var binder = new ParameterBinder(target, "TESSLATE_", pathMembers: ["SourceRoot"]);
        binder.Bind(CommandLine.Parse(args), environment ?? [], _nuke, profiles ?? []);
        return target;
    }

    [Fact]
    public void Names_are_kebab_case_flags_and_prefixed_screaming_snake_environment_variables()
    {
        var descriptors = ParameterBinder.Discover(new Parameters(), "TESSLATE_");
        var token = descriptors.Single(d => d.MemberName == "GitHubToken");
        Assert.Equal("--github-token", token.Flag);
        Assert.Equal("TESSLATE_GITHUB_TOKEN", token.EnvironmentVariable);
        Assert.Equal("--source-root", descriptors.Single(d => d.MemberName == "SourceRoot").Flag);
        Assert.Equal(["local", "beta", "early-access"], descriptors.Single(d => d.MemberName == "Stage").AllowedValues);
    }

    [Theory]
    [InlineData("""{ "$schema": "./build.schema.json" }""", true)]
    [InlineData("{\n  \"$schema\" : \"./build.schema.json\"\n}\n", true)]
    [InlineData("""{ "$schema": "./build.schema.json", "Stage": "beta" }""", false)]
    [InlineData("""{ "$schema": "./build.schema.json", }""", false)]
    [InlineData("""{ "$schema": "./build.schema.json" } // local""", false)]
    [InlineData("""{ "$schema": "a\"b" }""", false)]
    [InlineData("""{ "Stage": "beta" }""", false)]
    public void Only_a_file_that_names_its_schema_and_nothing_else_skips_the_json_parser(string text, bool skipped) =>
        Assert.Equal(skipped, ParameterBinder.OnlyNamesItsSchema(text));

    [Fact]
    public void A_file_that_only_names_its_schema_binds_nothing_and_one_with_a_value_binds_it()
    {
        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "$schema": "./build.schema.json" }""");
        Assert.Equal(Stage.Local, Bind([]).Stage);
        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "$schema": "./build.schema.json", "Stage": "beta" }""");
        Assert.Equal(Stage.Beta, Bind([]).Stage);
    }

    [Fact]
    public void Precedence_is_cli_then_environment_then_profile_then_parameters_file_then_default()
    {
        Assert.Equal(Stage.Local, Bind([]).Stage);
        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "Stage": "beta", "Parallelism": 2, "SourceRoot": "from-file", "Images": ["a"] }""");
        File.WriteAllText(Path.Combine(_nuke, "parameters.ci.json"), """{ "Parallelism": 3, "Images": "b,c" }""");
        File.WriteAllText(Path.Combine(_nuke, "parameters.late.json"), """{ "Parallelism": 5 }""");

        var files = Bind([]);
        Assert.Equal(Stage.Beta, files.Stage);
        Assert.Equal(2, files.Parallelism);

        var profiles = Bind([], profiles: ["ci", "late"]);
        Assert.Equal(5, profiles.Parallelism); // the later profile wins
        Assert.Equal(["b", "c"], profiles.Images);
        Assert.Equal(Path.Combine(Path.GetDirectoryName(_nuke)!, "from-file"), profiles.SourceRoot);

        var environment = Bind([], new() { ["TESSLATE_PARALLELISM"] = "7", ["TESSLATE_IMAGES"] = "x y" }, ["ci"]);
        Assert.Equal(7, environment.Parallelism);
        Assert.Equal(["x", "y"], environment.Images);

        var cli = Bind(["--parallelism", "9"], new() { ["TESSLATE_PARALLELISM"] = "7" }, ["ci"]);
        Assert.Equal(9, cli.Parallelism);
        Assert.Equal(30, Bind([]).Timeout.TotalMinutes);
    }

    [Fact]
    public void Only_prefixed_environment_variables_count_so_a_stray_one_cannot_redirect_a_run()
    {
        var bound = Bind([], new() { ["STAGE"] = "beta", ["TARGET"] = "Deploy" });
        Assert.Equal(Stage.Local, bound.Stage);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h", 3600)]
    [InlineData("1h30m", 5400)]
    [InlineData("45", 45)]
    public void Durations_accept_units_and_plain_seconds(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Bind(["--timeout", text]).Timeout);

    [Fact]
    public void Lists_take_commas_or_separate_words_and_switches_take_no_value()
    {
        Assert.Equal(["backend", "ast"], Bind(["--images", "backend,ast"]).Images);
        Assert.Equal(["backend", "ast", "web"], Bind(["--images", "backend", "ast,web"]).Images);
        Assert.True(Bind(["--force"]).Force);
        Assert.False(Bind(["--force", "false"]).Force);
        Assert.Equal(Stage.EarlyAccess, Bind(["--stage", "early-access"]).Stage);
        Assert.Equal(Stage.Beta, Bind(["--stage=BETA"]).Stage);
    }

    [Fact]
    public void Lists_of_numbers_enums_and_durations_convert_each_item_from_every_source()
    {
        var cli = Bind(["--ports", "80,443", "8080", "--stages", "beta", "early-access", "--waits", "90s,10m"]);
        Assert.Equal([80, 443, 8080], cli.Ports);
        Assert.Equal([Stage.Beta, Stage.EarlyAccess], cli.Stages);
        Assert.Equal([TimeSpan.FromSeconds(90), TimeSpan.FromMinutes(10)], cli.Waits);

        Assert.Equal([1, 2], Bind([], new() { ["TESSLATE_PORTS"] = "1 2" }).Ports);

        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "Ports": [3, 4], "Stages": ["local", "beta"], "Waits": ["1h", 30] }""");
        var file = Bind([]);
        Assert.Equal([3, 4], file.Ports);
        Assert.Equal([Stage.Local, Stage.Beta], file.Stages);
        Assert.Equal([TimeSpan.FromHours(1), TimeSpan.FromSeconds(30)], file.Waits);
    }

    [Theory]
    [InlineData(new[] { "--ports", "80,http" }, "--ports expects a whole number; got 'http'.")]
    [InlineData(new[] { "--ports", "80", "0" }, "--ports must be greater than zero; got 0.")]
    [InlineData(new[] { "--stages", "beta,staging" }, "--stages does not accept 'staging'.")]
    [InlineData(new[] { "--waits", "10m", "soon" }, "--waits expects a duration like 90s, 10m, 1h or plain seconds; got 'soon'.")]
    public void A_bad_item_in_a_list_is_named(string[] args, string expected)
    {
        var error = Assert.Throws<UsageException>(() => Bind(args));
        Assert.Contains(expected, error.Problem);
    }

    [Fact]
    public void Secret_values_are_registered_so_every_output_redacts_them()
    {
        Bind(["--github-token", "ghp_supersecretvalue"]);
        Assert.Equal("token=[REDACTED]", Secrets.Redact("token=ghp_supersecretvalue"));
    }

    [Theory]
    [InlineData(new[] { "--stagee", "beta" }, "Unknown option '--stagee'. Did you mean '--stage'?")]
    [InlineData(new[] { "--stage" }, "--stage needs a value")]
    [InlineData(new[] { "--stage", "staging" }, "--stage does not accept 'staging'.")]
    [InlineData(new[] { "--timeout", "10", "minutes" }, "--timeout takes one value (duration); got '10 minutes'.")]
    [InlineData(new[] { "--timeout", "soon" }, "--timeout expects a duration like 90s, 10m, 1h or plain seconds; got 'soon'.")]
    [InlineData(new[] { "--parallelism", "0" }, "--parallelism must be greater than zero; got 0.")]
    [InlineData(new[] { "--parallelism", "four" }, "--parallelism expects a whole number; got 'four'.")]
    [InlineData(new[] { "--replicas", "-1" }, "--replicas must be at least 0; got -1.")]
    [InlineData(new[] { "--force", "Deploy" }, "--force is a switch and takes no value")]
    public void Bad_values_are_usage_errors_that_say_what_is_wrong(string[] args, string expected)
    {
        var error = Assert.Throws<UsageException>(() => Bind(args));
        Assert.Contains(expected, error.Problem);
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
    }

    [Theory]
    [InlineData(new[] { "--stage", "local", "--stage", "beta" }, "--stage is given twice with different values: 'local' and 'beta'.")]
    [InlineData(new[] { "--images", "a", "--images", "b" }, "--images is given twice with different values: 'a' and 'b'.")]
    [InlineData(new[] { "--force", "--force=false" }, "--force is given twice with different values: '' and 'false'.")]
    [InlineData(new[] { "--github-token", "ghp_one", "--github-token", "ghp_two" }, "--github-token is given twice with different values: '[REDACTED]' and '[REDACTED]'.")]
    [InlineData(new[] { "--images", "a,b", "--images" }, "--images was given an empty list.")]
    [InlineData(new[] { "--images", "" }, "--images was given an empty list.")]
    [InlineData(new[] { "--images", ",," }, "--images was given an empty list.")]
    [InlineData(new[] { "--timeout", "9999999999h" }, "--timeout must be at most 24h; got '9999999999h'.")]
    [InlineData(new[] { "--timeout", "86401" }, "--timeout must be at most 24h")]
    [InlineData(new[] { "--waits", "1m", "1e300" }, "--waits must be at most 24h")]
    public void Conflicting_empty_and_absurd_values_are_usage_errors_that_name_them(string[] args, string expected)
    {
        var error = Assert.Throws<UsageException>(() => Bind(args));
        Assert.Contains(expected, error.Problem);
        Assert.DoesNotContain("ghp_", error.Problem + error.Fix);
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
    }

    [Fact]
    public void The_same_value_twice_is_fine_however_a_list_is_written()
    {
        Assert.Equal(Stage.Beta, Bind(["--stage", "beta", "--stage", "Beta"]).Stage);
        Assert.Equal(["a", "b"], Bind(["--images", "a,b", "--images", "a", "b"]).Images);
        Assert.True(Bind(["--force", "--force"]).Force);
        Assert.Equal(TimeSpan.FromHours(24), Bind(["--timeout", "24h"]).Timeout);
    }

    [Fact]
    public void A_key_given_twice_in_a_parameters_file_with_different_values_names_both()
    {
        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "Stage": "local", "stage": "beta" }""");
        var error = Assert.Throws<UsageException>(() => Bind([]));
        Assert.Equal($"{Path.Combine(_nuke, "parameters.json")} sets Stage twice with different values: \"local\" and \"beta\".", error.Problem);

        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "GitHubToken": "ghp_one", "GitHubToken": "ghp_two" }""");
        error = Assert.Throws<UsageException>(() => Bind([]));
        Assert.Contains("sets GitHubToken twice with different values: [REDACTED] and [REDACTED].", error.Problem);
        Assert.DoesNotContain("ghp_", error.Problem);

        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "Stage": "beta", "Stage": "beta" }""");
        Assert.Equal(Stage.Beta, Bind([]).Stage);
    }

    [Fact]
    public void An_invalid_environment_value_names_the_variable_and_the_allowed_values()
    {
        var error = Assert.Throws<UsageException>(() => Bind([], new() { ["TESSLATE_STAGE"] = "prod" }));
        Assert.Contains("environment variable TESSLATE_STAGE does not accept 'prod'", error.Problem);
        Assert.Contains("local, beta, early-access", error.Fix);
    }

    [Fact]
    public void A_malformed_parameters_file_is_named_with_its_line()
    {
        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), "{\n  \"Stage\": \"beta\",\n  \"Images\": [\"a\",\n}\n");
        var error = Assert.Throws<UsageException>(() => Bind([]));
        Assert.Contains("parameters.json is not valid JSON at line 4, position 1: '}' is an invalid start of a value.", error.Problem);
        Assert.DoesNotContain("LineNumber", error.Problem);
    }

    [Theory]
    [InlineData("parameters.json", new string[0])]
    [InlineData("parameters.ci.json", new[] { "ci" })]
    public void An_unknown_key_in_a_parameters_file_names_the_file_the_key_and_the_closest_parameter(string file, string[] profiles)
    {
        File.WriteAllText(Path.Combine(_nuke, file), """{ "$schema": "./build.schema.json", "Stage": "beta", "SourceRot": "../Studio" }""");
        var error = Assert.Throws<UsageException>(() => Bind([], profiles: profiles));
        Assert.Equal($"{Path.Combine(_nuke, file)} has an unknown key 'SourceRot'. Did you mean 'SourceRoot'?", error.Problem);
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
    }

    [Fact]
    public void Keys_in_a_parameters_file_match_parameter_names_whatever_their_case_and_the_schema_key_is_allowed()
    {
        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "$schema": "./build.schema.json", "stage": "beta" }""");
        Assert.Equal(Stage.Beta, Bind([]).Stage);
    }

    [Fact]
    public void A_path_from_a_parameters_file_is_relative_to_the_repository_root_and_one_from_the_command_line_is_kept_as_given()
    {
        var root = Path.GetDirectoryName(_nuke)!;
        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "SourceRoot": "../Studio" }""");
        Assert.Equal(Path.GetFullPath(Path.Combine(root, "..", "Studio")), Bind([]).SourceRoot);
        Assert.Equal("../Studio", Bind(["--source-root", "../Studio"]).SourceRoot);
        Assert.Equal("../Studio", Bind([], new() { ["TESSLATE_SOURCE_ROOT"] = "../Studio" }).SourceRoot);
    }

    [Fact]
    public void An_empty_environment_variable_counts_as_unset()
    {
        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "Stage": "beta" }""");
        var bound = Bind([], new() { ["TESSLATE_STAGE"] = "", ["TESSLATE_FORCE"] = "", ["TESSLATE_PARALLELISM"] = " " });
        Assert.Equal(Stage.Beta, bound.Stage);
        Assert.False(bound.Force);
        Assert.Equal(4, bound.Parallelism);
    }

    [Theory]
    [InlineData("first-secret-value", "second-secret-value")]
    [InlineData("s1", "s2")]
    public void A_bad_value_for_a_secret_parameter_is_never_echoed(string first, string second)
    {
        var error = Assert.Throws<UsageException>(() => Bind(["--github-token", first, second]));
        Assert.Contains("--github-token takes one value (text); got '[REDACTED]'.", error.Problem);
        foreach (var value in new[] { first, second })
        {
            Assert.DoesNotContain(value, error.Problem);
            Assert.DoesNotContain(value, error.Fix);
        }
    }

    [Fact]
    public void A_secret_from_a_parameters_file_is_registered_before_any_value_is_converted()
    {
        File.WriteAllText(Path.Combine(_nuke, "parameters.json"), """{ "GitHubToken": "ghp_fromthefile", "Stage": "ghp_fromthefile" }""");
        var error = Assert.Throws<UsageException>(() => Bind([]));
        Assert.Contains("does not accept '[REDACTED]'", error.Problem);
    }

    [Fact]
    public void A_missing_profile_lists_the_profiles_that_exist()
    {
        File.WriteAllText(Path.Combine(_nuke, "parameters.ci.json"), "{}");
        var error = Assert.Throws<UsageException>(() => Bind([], profiles: ["prod"]));
        Assert.Contains("Profile 'prod'", error.Problem);
        Assert.Contains("ci", error.Fix);
    }

    [Fact]
    public void Targets_are_the_words_before_the_first_flag()
    {
        var line = CommandLine.Parse(["Deploy", "Status+Verify", "--images", "backend", "ast", "--dry-run"]);
        Assert.Equal(["Deploy", "Status", "Verify"], line.Targets);
        Assert.Equal(["backend", "ast"], line.Options[0].Values);
        Assert.Equal("dry-run", line.Options[1].Name);
    }
}
