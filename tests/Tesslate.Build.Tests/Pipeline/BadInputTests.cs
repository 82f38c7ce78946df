using Tesslate.Build.Tests.Fakes;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Pipeline;

/// <summary>
/// Bad input through the real pipeline: a usage error (exit 2) that names the values, before any target runs, so the
/// cluster (the fake API server behind a local kube context) sees no write at all: no lock, no history entry.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private const string Context = "tesslate-fake";
    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly string _root = RepositoryCopy.Create();
    private readonly string _kube = Directory.CreateTempSubdirectory("tesslate-kube-").FullName;
    private readonly string _notACheckout = Directory.CreateTempSubdirectory("tesslate-export-").FullName;
    private FakeKubeApi _fake = null!;

    public async ValueTask InitializeAsync() => _fake = await FakeKubeApi.StartAsync(ct: TestContext.Current.CancellationToken);

    public static TheoryData<string[], string> Refused => new()
    {
        { ["--environment", "local", "--images", "backend", "--environment", "production"], "--environment is given twice with different values: 'local' and 'production'." },
        { ["--environment", "local", "--images", "backend", "--images", "ast"], "--images is given twice with different values: 'backend' and 'ast'." },
        { ["--environment", "local", "--images", "backend,frontend", "--images"], "--images was given an empty list." },
        { ["--environment", "local", "--images", ""], "--images was given an empty list." },
        { ["--environment", "local", "--images", "backend", "--rollout-timeout", "9999999999h"], "--rollout-timeout must be at most 24h; got '9999999999h'." },
        { ["--environment", "local", "--images", "backend", "--registry", "bad host:5000"], "--registry 'bad host:5000' is not a registry address: it contains whitespace" },
        { ["--environment", "local", "--images", "backend", "--registry", "localhost:5000\nevil"], "is not a registry address: it contains whitespace or a control character" },
        { ["--environment", "local", "--images", "backend", "--registry", "http://localhost:5000"], "--registry 'http://localhost:5000' is not a registry address: it has a scheme" },
        { ["--environment", "local", "--images", "backend", "--registry", "localhost:99999"], "port 99999 is not between 1 and 65535" },
        { ["--environment", "local", "--images", "backend", "--build-report", "/nonexistent/build-report.json", "--skip", "BuildImages"], "--build-report /nonexistent/build-report.json does not exist." },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Bad_input_is_a_usage_error_before_any_target_and_the_cluster_sees_no_write(string[] args, string problem)
    {
        foreach (var plan in new[] { false, true })
        {
            var (exitCode, output) = await RunAsync(["Deploy", .. args, .. plan ? new[] { "--plan" } : []]);

            Assert.True(exitCode == 2, output);
            Assert.Contains(problem, output);
            Assert.DoesNotContain("▶", output);
        }
        Assert.Empty(_fake.Mutations);
    }

    [Fact]
    public async Task A_source_root_that_is_not_a_git_checkout_is_refused_where_images_are_built_and_ignored_by_a_Terraform_only_run()
    {
        File.WriteAllText(Path.Combine(_notACheckout, "README.md"), "an export without .git");

        var (exitCode, output) = await RunAsync(["Deploy", "--environment", "local", "--images", "backend", "--source-root", _notACheckout]);
        Assert.True(exitCode == 2, output);
        Assert.Contains($"--source-root '{_notACheckout}' is not a git checkout", output);
        Assert.Empty(_fake.Mutations);

        (exitCode, output) = await RunAsync(["TerraformPlan", "--environment", "beta", "--source-root", _notACheckout, "--plan"]);
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task A_build_report_that_is_not_one_is_refused_naming_the_flag_before_any_target()
    {
        var report = Path.Combine(_root, "not-a-report.json");
        File.WriteAllText(report, "{ oops");

        var (exitCode, output) = await RunAsync(["Deploy", "--environment", "local", "--images", "backend", "--build-report", report, "--skip", "BuildImages"]);

        Assert.True(exitCode == 2, output);
        Assert.Contains($"--build-report {report}: '{report}' is not a build report", output);
        Assert.Contains("build-report.json a BuildImages run wrote", output);
        Assert.DoesNotContain("▶", output);
        Assert.Empty(_fake.Mutations);
    }

    [Fact]
    public async Task A_key_twice_in_the_parameters_file_with_different_values_is_refused_naming_both()
    {
        File.WriteAllText(Path.Combine(_root, ".nuke", "parameters.json"), """{ "Environment": "local", "Environment": "production" }""");

        var (exitCode, output) = await RunAsync(["Deploy", "--images", "backend", "--plan"]);

        Assert.True(exitCode == 2, output);
        Assert.Contains("sets Environment twice with different values: \"local\" and \"production\".", output);
    }

    [Fact]
    public async Task A_catalog_without_a_default_set_and_no_images_named_is_a_usage_error_naming_the_flag_before_any_target()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(_root, "images"), "*.yaml"))
            File.WriteAllText(file, File.ReadAllText(file).Replace("defaultSet: true", "defaultSet: false", StringComparison.Ordinal));

        var (exitCode, output) = await RunAsync(["BuildImages", "--environment", "local"]);

        Assert.True(exitCode == 2, output);
        Assert.Contains("No images to build.", output);
        Assert.Contains("Pass --images NAME[,NAME...] or mark images defaultSet in the catalog.", output);
        Assert.DoesNotContain("▶", output);
        Assert.Empty(_fake.Mutations);
    }

    private Task<(int ExitCode, string Output)> RunAsync(string[] args) =>
        PipelineRun.RunAsync([.. args, "--kube-context", Context, .. args.Contains("--source-root") ? Array.Empty<string>() : ["--source-root", _app.Root]],
            new Dictionary<string, string> { ["KUBECONFIG"] = FakeKubeconfig.Write(_kube, _fake.Url, Context) }, _root);

    public async ValueTask DisposeAsync()
    {
        await _fake.DisposeAsync();
        _app.Dispose();
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_kube, recursive: true);
        Directory.Delete(_notACheckout, recursive: true);
    }
}
