using Tesslate.Build.Images;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Images;

/// <summary>The fingerprint covers exactly what the build reads, on a real git copy of the fixture app with a submodule.</summary>
public sealed class FingerprintTests : IDisposable
{
    private readonly FixtureApp _app = FixtureApp.Create();
    private readonly ImageCatalog _catalog = ImageCatalog.Load(RepositoryPaths.Images);

    private string Fingerprint(string image, Dictionary<string, string>? buildArgs = null, string? baseDigest = null)
    {
        var definition = _catalog[image];
        if (buildArgs is not null)
            definition = definition with { BuildArgs = buildArgs };
        var source = ImageSource.Resolve(definition, _app.Root, RepositoryPaths.Images);
        var inputs = FingerprintCalculator.ReadDockerfile(source);
        return FingerprintCalculator.Compute(source, inputs, [.. inputs.ExternalBaseImages.Select(b => new BaseImageDigest(b, baseDigest))]).Value;
    }

    private Dictionary<string, string> All() => _catalog.Names.ToDictionary(n => n, n => Fingerprint(n));

    [Fact]
    public void An_unchanged_tree_gives_the_same_fingerprint_and_labels_or_time_do_not_enter_it()
    {
        var first = All();
        Assert.Equal(first, All());
        Assert.All(first.Values, v => Assert.Matches("^[0-9a-f]{32}$", v));
    }

    [Fact]
    public void A_change_under_services_ast_changes_only_the_ast_fingerprint()
    {
        var before = All();
        _app.Write("services/ast/src/index.js", "console.log('changed')");
        var after = All();
        Assert.NotEqual(before["ast"], after["ast"]);
        foreach (var name in before.Keys.Where(n => n != "ast"))
            Assert.Equal(before[name], after[name]);
    }

    [Fact]
    public void An_untracked_file_read_by_a_copy_changes_the_fingerprint_and_an_ignored_one_does_not()
    {
        var before = All();
        _app.Write("services/ast/src/untracked.js", "new");
        _app.Write("services/ast/node_modules/left-pad/index.js", "ignored by services/ast/.dockerignore");
        _app.Write("orchestrator/.env", "SECRET=1");
        _app.Write("orchestrator/.venv/bin/python", "venv");
        var after = All();
        Assert.NotEqual(before["ast"], after["ast"]);
        Assert.Equal(before["backend"], after["backend"]);
        Assert.Equal(before["devserver"], after["devserver"]);
    }

    [Fact]
    public void A_root_file_no_copy_reads_does_not_rebuild_root_context_images()
    {
        var before = All();
        _app.Write("docs/notes.md", "not copied by any Dockerfile");
        _app.Write("services/btrfs-csi/README.md", "compute's context, but its COPY reads only main.go");
        Assert.Equal(before, All());
    }

    [Fact]
    public void A_change_inside_the_submodule_rebuilds_the_backend()
    {
        var before = Fingerprint("backend");
        _app.Write("packages/tesslate-agent/agent.txt", "agent v2");
        Assert.NotEqual(before, Fingerprint("backend"));
        Assert.Equal(Fingerprint("frontend"), All()["frontend"]);
    }

    [Fact]
    public void Build_args_and_base_image_digests_are_inputs()
    {
        Assert.NotEqual(Fingerprint("deerflow"), Fingerprint("deerflow", new() { ["DEER_FLOW_REF"] = "v1.2.3" }));

        _app.Write("services/ast/Dockerfile", "FROM node:20-alpine\nCOPY src/ /app/src/\n");
        Assert.NotEqual(Fingerprint("ast", baseDigest: "sha256:aaaa"), Fingerprint("ast", baseDigest: "sha256:bbbb"));
    }

    [Fact]
    public void An_unresolved_base_makes_the_fingerprint_incomplete()
    {
        _app.Write("services/ast/Dockerfile", "FROM node:20-alpine\nCOPY src/ /app/src/\n");
        var source = ImageSource.Resolve(_catalog["ast"], _app.Root, RepositoryPaths.Images);
        var inputs = FingerprintCalculator.ReadDockerfile(source);
        var fingerprint = FingerprintCalculator.Compute(source, inputs, [new BaseImageDigest("node:20-alpine", null)]);
        Assert.False(fingerprint.IsComplete);
    }

    [Fact]
    public void A_bind_mount_of_the_context_covers_the_whole_context()
    {
        _app.Write("services/btrfs-csi/Dockerfile", "FROM scratch\nRUN --mount=type=bind,target=/src true\n");
        var before = Fingerprint("compute");
        _app.Write("services/btrfs-csi/other.go", "package other");
        Assert.NotEqual(before, Fingerprint("compute"));
    }

    public void Dispose() => _app.Dispose();
}
