using System.Text.Json;
using System.Text.Json.Nodes;
using Tesslate.Build.LiveContract;

// Usage (README.md beside this file):
//   dotnet run --project tests/tools/live-contract -- extract --git-dir /work/.mirror/TesslateAI+Studio/repo [--ref HEAD] [--write-litellm true]
//   dotnet run --project tests/tools/live-contract -- extract --studio <checkout> [--commit <sha> --date <yyyy-mm-dd>]
//   dotnet run --project tests/tools/live-contract -- compare
try
{
    using var cancellation = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancellation.Cancel(); };
    var options = Options.Parse(args);
    return options.Command switch
    {
        "extract" => await Commands.ExtractAsync(options, cancellation.Token),
        "compare" => await Commands.CompareAsync(options, cancellation.Token),
        _ => throw new ContractToolException($"unknown command '{options.Command}'", "Use extract or compare (see tests/tools/live-contract/README.md)."),
    };
}
catch (ContractToolException failure)
{
    Console.Error.WriteLine($"live-contract: {failure.What}");
    Console.Error.WriteLine($"  fix: {failure.Fix}");
    return 2;
}

internal sealed record Options(string Command, IReadOnlyDictionary<string, string> Values)
{
    public string? Get(string name) => Values.GetValueOrDefault(name);

    public static Options Parse(string[] args)
    {
        if (args.Length == 0)
            throw new ContractToolException("no command given", "Run: live-contract extract --git-dir <Studio mirror> | extract --studio <checkout> | compare");
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ContractToolException($"unexpected argument '{args[i]}'", "Options take a value: --studio <dir>, --git-dir <dir>, --ref <rev>, --commit <sha>, --date <yyyy-mm-dd>, --out <dir>, --root <dir>.");
            values[args[i][2..]] = args[++i];
        }

        return new Options(args[0], values);
    }
}

internal static class Commands
{
    public static async Task<int> ExtractAsync(Options options, CancellationToken cancellationToken)
    {
        var root = options.Get("root") ?? LiveContractLayout.FindRoot(Environment.CurrentDirectory);
        var output = options.Get("out") ?? Path.Combine(root, LiveContractLayout.FixtureDirectory);
        string studio, commit, date;
        string? exported = null;
        if (options.Get("git-dir") is { } gitDir)
        {
            var revision = options.Get("ref") ?? "HEAD";
            (commit, date) = await CommitOfAsync(["--git-dir", gitDir], revision, cancellationToken);
            exported = Directory.CreateTempSubdirectory("live-contract-").FullName;
            var archive = Path.Combine(exported, "export.tar");
            await Git(["--git-dir", gitDir, "archive", "--output", archive, commit, .. LiveContractLayout.StudioPaths], cancellationToken);
            var untar = await Tools.RunAsync("tar", ["-xf", archive, "-C", exported], null, cancellationToken);
            if (untar.ExitCode != 0)
                throw new ContractToolException($"tar could not unpack the export: {untar.Errors.Trim()}", "Check free disk space in the temp folder.");
            studio = exported;
        }
        else if (options.Get("studio") is { } checkout)
        {
            studio = Path.GetFullPath(checkout);
            if (options.Get("commit") is { } given)
                (commit, date) = (given, options.Get("date") ?? throw new ContractToolException("--commit without --date", "Give the commit's date too: --date yyyy-mm-dd."));
            else
                (commit, date) = await CommitOfAsync(["-C", studio], "HEAD", cancellationToken);
        }
        else
        {
            throw new ContractToolException("no source given", "Pass --git-dir <bare Studio repository> or --studio <checkout of TesslateAI/Studio>.");
        }

        try
        {
            Directory.CreateDirectory(output);
            var renderer = await Tools.KustomizeVersionAsync(cancellationToken);
            foreach (var overlay in LiveContractLayout.Overlays)
            {
                var yaml = await Tools.KustomizeAsync(Path.Combine(studio, "k8s", "overlays", overlay), cancellationToken);
                var facts = new OverlayFacts(new FactSource(LiveContractLayout.StudioRepository, commit, date, $"k8s/overlays/{overlay}", renderer), FactDeriver.Derive(yaml));
                var file = Path.Combine(output, LiveContractLayout.FixtureFile(overlay));
                await File.WriteAllTextAsync(file, facts.ToJson(), cancellationToken);
                Console.WriteLine($"{file}: {facts.Objects.Count} objects, {facts.Objects.Sum(o => o.Value.Count)} facts");
            }

            var litellm = await File.ReadAllTextAsync(Path.Combine(studio, LiteLlmConfig.StudioPath), cancellationToken);
            var litellmFile = Path.Combine(output, LiteLlmConfig.FixtureFile);
            await File.WriteAllTextAsync(litellmFile, LiteLlmConfig.FixtureJson(commit, date, litellm), cancellationToken);
            Console.WriteLine($"{litellmFile}: meaning {LiteLlmConfig.MeaningSha256(litellm)[..12]}");
            if (options.Get("write-litellm") == "true")
            {
                var target = Path.Combine(root, LiteLlmConfig.ProjectPath);
                await File.WriteAllTextAsync(target, LiteLlmConfig.Rewrite(litellm, $"{LiveContractLayout.StudioRepository}@{commit[..8]} ({date}) {LiteLlmConfig.StudioPath}"), cancellationToken);
                Console.WriteLine($"{target}: written from the live file");
            }

            var terraform = await TerraformObjects.ReadAsync(Path.Combine(studio, "k8s", "terraform", "aws"), Path.Combine(root, "tests", "tools", "hcl2json"), cancellationToken);
            var terraformFile = Path.Combine(output, LiveContractLayout.TerraformObjectsFile);
            await File.WriteAllTextAsync(terraformFile, LiveContractLayout.TerraformObjectsJson(commit, date, terraform), cancellationToken);
            Console.WriteLine($"{terraformFile}: {terraform.Count} objects");
            return 0;
        }
        finally
        {
            if (exported is not null)
                Directory.Delete(exported, recursive: true);
        }
    }

    public static async Task<int> CompareAsync(Options options, CancellationToken cancellationToken)
    {
        var root = options.Get("root") ?? LiveContractLayout.FindRoot(Environment.CurrentDirectory);
        var contract = LiveContractLayout.Load(root);
        var total = 0;
        var undocumented = 0;
        foreach (var overlay in LiveContractLayout.Overlays)
        {
            var project = FactDeriver.Derive(await Tools.KustomizeAsync(Path.Combine(root, "k8s", "overlays", overlay), cancellationToken));
            var differences = ContractComparison.Compare(contract.Live[overlay].Objects, project, contract.TerraformOwned);
            var reconciliation = ContractComparison.Reconcile(overlay, differences, contract.Documented);
            total += differences.Count;
            undocumented += reconciliation.Undocumented.Count;
            Console.WriteLine($"== {overlay}: {differences.Count} differences, {reconciliation.Documented} documented, {reconciliation.Undocumented.Count} undocumented, {reconciliation.Stale.Count} stale entries");
            foreach (var difference in reconciliation.Undocumented)
                Console.WriteLine("  undocumented: " + difference);
            foreach (var stale in reconciliation.Stale)
                Console.WriteLine("  stale entry:  " + stale);
        }

        Console.WriteLine($"total: {total} differences, {undocumented} undocumented");
        return undocumented == 0 ? 0 : 1;
    }

    private static async Task<(string Commit, string Date)> CommitOfAsync(string[] location, string revision, CancellationToken cancellationToken)
    {
        var output = await Git([.. location, "log", "-1", "--format=%H %cs", revision], cancellationToken);
        var parts = output.Trim().Split(' ');
        return (parts[0], parts[1]);
    }

    private static async Task<string> Git(string[] arguments, CancellationToken cancellationToken)
    {
        var result = await Tools.RunAsync("git", arguments, null, cancellationToken);
        if (result.ExitCode != 0)
            throw new ContractToolException($"git {string.Join(' ', arguments)} failed: {result.Errors.Trim()}",
                "Point --git-dir at a bare clone of TesslateAI/Studio, or pass --studio with --commit and --date for an export without .git.");
        return result.Output;
    }
}
