using System.Text.Json;
using Tesslate.Build.Terraform;
using Xunit;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>
/// The project's stacks against the live ones (issue 14 §1): the committed fixture holds the facts of TesslateAI/Studio's
/// k8s/terraform/{aws,shared}; every difference is either listed in terraform/takeover-differences.yaml (with its
/// reason) or fails here, and a listed difference that no longer exists fails too.
/// </summary>
public sealed class TerraformContractTests
{
    public const string DifferencesFile = "terraform/takeover-differences.yaml";

    public static TheoryData<string> Stacks() => ["aws", "shared"];

    internal sealed class DocumentedDifferences
    {
        public List<DocumentedEntry> Differences { get; set; } = [];
    }

    /// <summary>One entry of the list: a subject (or several) and a fact (or several) that share one reason.</summary>
    internal sealed class DocumentedEntry
    {
        public string Stack { get; set; } = "";
        public string? Subject { get; set; }
        public List<string> Subjects { get; set; } = [];
        public string? Fact { get; set; }
        public List<string> Facts { get; set; } = [];
        public string? Live { get; set; }
        public string? New { get; set; }
        public string Why { get; set; } = "";

        public IEnumerable<DocumentedDifference> Expand() =>
            from subject in Subject is null ? Subjects : [Subject, .. Subjects]
            from fact in Fact is null ? Facts : [Fact, .. Facts]
            select new DocumentedDifference(Stack, subject, fact, Live, New, Why);
    }

    internal sealed record DocumentedDifference(string Stack, string Subject, string Fact, string? Live, string? New, string Why)
    {
        public bool Matches(string stack, ContractDifference difference) =>
            Stack == stack && Subject == difference.Subject && Fact == difference.Fact
            && (Live is null || Live == difference.Live) && (New is null || New == difference.New);

        public override string ToString() => $"{Stack} {Subject}: {Fact}";
    }

    internal static IReadOnlyList<DocumentedDifference> Documented() => [.. new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build()
        .Deserialize<DocumentedDifferences>(File.ReadAllText(InfrastructureLayout.Full(DifferencesFile)))
        .Differences.SelectMany(e => e.Expand())];

    private static async Task<IReadOnlyList<ContractDifference>> DifferencesAsync(string stack) =>
        TerraformContract.Compare(TerraformFactsTool.Live(stack), await TerraformFactsTool.StackAsync(InfrastructureLayout.Full($"terraform/{stack}"), TestContext.Current.CancellationToken));

    [Theory]
    [MemberData(nameof(Stacks))]
    public async Task The_project_stack_differs_from_the_live_one_only_where_documented(string stack)
    {
        var differences = await DifferencesAsync(stack);
        var documented = Documented();

        var undocumented = differences.Where(d => !documented.Any(e => e.Matches(stack, d))).ToList();
        var stale = documented.Where(e => e.Stack == stack && e.Fact != FileContent && !differences.Any(d => e.Matches(stack, d))).ToList();

        Assert.True(undocumented.Count == 0 && stale.Count == 0,
            $"terraform/{stack} against the live stack ({Counts(differences)}):" + Environment.NewLine
            + (undocumented.Count == 0 ? "" : $"{undocumented.Count} undocumented difference(s) (keep the live fact, or list it with its reason in {DifferencesFile}):{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", undocumented) + Environment.NewLine)
            + (stale.Count == 0 ? "" : $"{stale.Count} documented difference(s) that no longer exist (remove them from {DifferencesFile}):{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", stale)));
    }

    public const string FileContent = "file content";

    [Fact]
    public async Task The_files_the_stacks_put_into_the_cluster_have_the_live_content_unless_listed()
    {
        const string stack = "aws";
        // The shared stack reads no file, live or here.
        Assert.Empty(TerraformFactsTool.Live("shared").Section("files_read"));
        Assert.Empty((await TerraformFactsTool.StackAsync(InfrastructureLayout.Full("terraform/shared"), TestContext.Current.CancellationToken)).Section("files_read"));
        var live = TerraformFactsTool.Live(stack).Section("files_read");
        var project = (await TerraformFactsTool.StackAsync(InfrastructureLayout.Full($"terraform/{stack}"), TestContext.Current.CancellationToken)).Section("files_read");
        var documented = Documented().Where(d => d.Stack == stack && d.Fact == FileContent).ToList();

        var differing = new List<string>();
        foreach (var (read, file) in live)
        {
            var ours = project.TryGetValue(read, out var found) ? found : (System.Text.Json.JsonElement?)null;
            var same = ours is { } mine && mine.GetProperty("sha256").GetString() == file.GetProperty("sha256").GetString();
            if (!same && !documented.Any(d => d.Subject == read))
            {
                differing.Add($"{read}: {(ours is { } o ? o.GetProperty("path").GetString() : "(not read)")} is not the live {file.GetProperty("path").GetString()} "
                    + "(applying would replace what runs with this content)");
            }
        }
        var stale = documented.Where(d => live.TryGetValue(d.Subject, out var file) && project.TryGetValue(d.Subject, out var mine)
            && mine.GetProperty("sha256").GetString() == file.GetProperty("sha256").GetString()).ToList();

        Assert.True(differing.Count == 0 && stale.Count == 0, string.Join(Environment.NewLine, differing.Concat(stale.Select(d => $"{d}: listed as different, but the content is the live one now"))));
    }

    [Theory]
    [MemberData(nameof(Stacks))]
    public async Task Every_live_address_is_kept_and_no_major_variable_or_output_is_lost_even_documented(string stack)
    {
        var differences = await DifferencesAsync(stack);

        var lost = differences.Where(d => d.AddressNotKept || d.MajorChanged || d.VariableMissing || d.NewVariableWithoutDefault || d.OutputMissing).ToList();

        Assert.True(lost.Count == 0, $"terraform/{stack} loses live facts ({Counts(differences)}):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", lost));
    }

    [Fact]
    public void Every_documented_difference_says_why_and_the_runbook_points_to_the_list()
    {
        var documented = Documented();

        Assert.NotEmpty(documented);
        Assert.All(documented, d => Assert.True(d.Stack is "aws" or "shared" && d.Subject.Length > 0 && d.Fact.Length > 0 && d.Why.Trim().Length > 20, $"{d}: stack, subject, fact and a reason are required"));
        Assert.Equal(documented.Count, documented.Select(d => $"{d.Stack}|{d.Subject}|{d.Fact}").Distinct().Count());
        Assert.Contains(Path.GetFileName(DifferencesFile), File.ReadAllText(InfrastructureLayout.Full("terraform/README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_fixture_records_its_source_commit_and_holds_both_live_stacks()
    {
        var fixture = TerraformFactsTool.Fixture();

        Assert.Equal("TesslateAI/Studio", fixture.GetProperty("source").GetProperty("repository").GetString());
        Assert.Matches("^[0-9a-f]{40}$", fixture.GetProperty("source").GetProperty("commit").GetString());
        Assert.Equal(131, TerraformFactsTool.Live("aws").Section("addresses").Values.Count(a => a.GetProperty("kind").GetString() != "data"));
        Assert.Equal(45, TerraformFactsTool.Live("shared").Section("addresses").Values.Count(a => a.GetProperty("kind").GetString() != "data"));
    }

    [Fact]
    public void The_generated_shared_backend_file_says_what_the_live_backend_hcl_says_and_the_environments_keep_their_keys()
    {
        var live = TerraformFactsTool.Live("shared").Json.GetProperty("backend_files").GetProperty("backend.hcl");
        var generated = BackendConfig.Parse(File.ReadAllText(InfrastructureLayout.Full("terraform/shared/backend-shared.hcl")));

        // The bucket is redacted in the public source (<TERRAFORM_STATE_BUCKET>); everything else must match.
        Assert.Equal(live.GetProperty("key").GetString(), generated.Key);
        Assert.Equal(live.GetProperty("region").GetString(), generated.Region);
        Assert.Equal(live.GetProperty("encrypt").GetBoolean(), generated.Encrypt);
        Assert.Equal(live.GetProperty("use_lockfile").GetBoolean(), generated.UseLockfile);
        foreach (var environment in new[] { "beta", "production" })
        {
            var backend = BackendConfig.Parse(File.ReadAllText(InfrastructureLayout.Full($"terraform/aws/backend-{environment}.hcl")));
            Assert.Equal($"{environment}/terraform.tfstate", backend.Key);
            Assert.Equal((generated.Bucket, generated.Region, true, true), (backend.Bucket, backend.Region, backend.Encrypt, backend.UseLockfile));
        }
    }

    internal static string Counts(IReadOnlyList<ContractDifference> differences) =>
        $"{differences.Count} differences; addresses not kept {differences.Count(d => d.AddressNotKept)}, majors changed {differences.Count(d => d.MajorChanged)}, " +
        $"variables missing {differences.Count(d => d.VariableMissing)}, new variables without default {differences.Count(d => d.NewVariableWithoutDefault)}, outputs missing {differences.Count(d => d.OutputMissing)}";
}
