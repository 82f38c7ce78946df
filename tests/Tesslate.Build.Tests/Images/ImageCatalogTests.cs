using Tesslate.Build.Engine;
using Tesslate.Build.Images;
using Tesslate.Build.Platform;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed class ImageCatalogTests
{
    private static ImageCatalog Catalog => ImageCatalog.Load(RepositoryPaths.Images);

    [Fact]
    public void The_catalog_has_the_eight_legacy_images_with_their_repositories_and_paths()
    {
        var catalog = Catalog;
        Assert.Equal(["ast", "backend", "compute", "deerflow", "devserver", "frontend", "marketplace", "markitdown"], catalog.Names);
        Assert.Equal("tesslate-btrfs-csi", catalog["compute"].Repository);
        Assert.Equal("orchestrator/Dockerfile", catalog["backend"].Dockerfile);
        Assert.Equal(".", catalog["backend"].Context);
        Assert.Equal(".", catalog["devserver"].Context);
        Assert.Equal("app", catalog["frontend"].Context);
        Assert.All(catalog.Images, i => Assert.Equal("linux/amd64", i.Platform));
        Assert.Equal(["backend", "devserver", "frontend"], catalog.Images.Where(i => i.DefaultSet).Select(i => i.Name));
        Assert.Equal(["deerflow", "devserver", "markitdown"], catalog.Images.Where(i => i.RuntimeReferenced).Select(i => i.Name));
        Assert.Equal(["deerflow", "devserver", "markitdown"], catalog.Images.Where(i => i.Tags.LatestOn.Contains("production")).Select(i => i.Name));
    }

    [Fact]
    public void Deerflow_clones_upstream_at_a_pinned_commit_because_the_fingerprint_cannot_see_a_branch_move()
    {
        Assert.Matches("^[0-9a-f]{40}$", Catalog["deerflow"].BuildArgs["DEER_FLOW_REF"]);
    }

    [Fact]
    public void Every_catalog_image_resolves_against_the_fixture_application()
    {
        foreach (var image in Catalog.Images)
        {
            var source = ImageSource.Resolve(image, RepositoryPaths.FixtureApp, RepositoryPaths.Images);
            Assert.True(File.Exists(source.DockerfilePath), image.Name);
        }
    }

    [Fact]
    public void The_committed_schema_is_what_the_code_generates()
    {
        var path = Path.Combine(RepositoryPaths.Images, "catalog.schema.json");
        var generated = ImageCatalog.GenerateSchema();
        if (Environment.GetEnvironmentVariable("TESSLATE_UPDATE_SCHEMA") == "1")
            File.WriteAllText(path, generated);
        Assert.True(File.Exists(path) && File.ReadAllText(path) == generated,
            "images/catalog.schema.json is stale: run the tests once with TESSLATE_UPDATE_SCHEMA=1 and commit the file.");
    }

    [Fact]
    public void The_schema_rejects_unknown_fields_and_requires_the_paths()
    {
        var schema = ImageCatalog.GenerateSchema();
        Assert.Contains("\"additionalProperties\": false", schema);
        Assert.Contains("\"required\"", schema);
        Assert.Contains("\"dockerfile\"", schema);
        Assert.Contains("Path of the Dockerfile", schema);
    }

    [Theory]
    [InlineData("backend,ast", new[] { "backend", "ast" })]
    [InlineData("backend ast", new[] { "backend", "ast" })]
    [InlineData("ast, backend,ast", new[] { "ast", "backend" })]
    public void Selection_accepts_commas_and_spaces_and_collapses_duplicates(string value, string[] expected) =>
        Assert.Equal(expected, Catalog.Select([value]).Select(i => i.Name));

    [Fact]
    public void Selection_accepts_separate_values_and_defaults_to_the_default_set()
    {
        Assert.Equal(["backend", "ast"], Catalog.Select(["backend", "ast", "backend"]).Select(i => i.Name));
        Assert.Equal(["backend", "devserver", "frontend"], Catalog.Select(null).Select(i => i.Name));
        Assert.Equal(["backend", "devserver", "frontend"], Catalog.Select([]).Select(i => i.Name));
    }

    [Fact]
    public void An_unknown_image_fails_listing_the_valid_ones()
    {
        var error = Assert.Throws<UsageException>(() => Catalog.Select(["backend,worker"]));
        Assert.Contains("Unknown image: worker", error.Problem);
        Assert.Contains("ast, backend, compute, deerflow, devserver, frontend, marketplace, markitdown", error.Fix);
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
    }

    [Fact]
    public void A_catalog_file_with_an_unknown_field_names_the_file_the_field_and_its_line()
    {
        var error = Assert.Throws<UsageException>(() => ImageCatalog.Parse("repository: r\ndockerfile: d\ncontext: .\ndockerFile: x\n", "images/bad.yaml"));
        Assert.Contains("images/bad.yaml:4: unknown field 'dockerFile'", error.Problem);
        Assert.Contains("dockerfile", error.Fix);

        var nested = Assert.Throws<UsageException>(() => ImageCatalog.Parse("repository: r\ndockerfile: d\ncontext: .\ntags:\n  latest: true\n", "images/bad.yaml"));
        Assert.Contains("unknown field 'tags.latest'", nested.Problem);
    }

    [Fact]
    public void A_catalog_file_without_a_dockerfile_names_the_file_and_the_field()
    {
        var error = Assert.Throws<UsageException>(() => ImageCatalog.Parse("repository: r\ncontext: .\n", "images/bad.yaml"));
        Assert.Contains("images/bad.yaml: field 'dockerfile' is missing", error.Problem);
    }

    [Fact]
    public void A_field_of_the_wrong_type_is_named()
    {
        var error = Assert.Throws<UsageException>(() => ImageCatalog.Parse("repository: r\ndockerfile: d\ncontext: .\ndefaultSet: [a]\n", "images/bad.yaml"));
        Assert.Contains("defaultSet", error.Problem);
    }

    [Fact]
    public void The_reader_knows_exactly_the_fields_and_required_fields_of_the_schema()
    {
        var schema = System.Text.Json.Nodes.JsonNode.Parse(ImageCatalog.GenerateSchema())!;
        static string[] Names(System.Text.Json.Nodes.JsonNode? node) => [.. node!.AsObject().Select(p => p.Key).Order()];
        static string[] Required(System.Text.Json.Nodes.JsonNode? node) => [.. (node?.AsArray() ?? []).Select(n => (string)n!).Order()];
        Assert.Equal(Names(schema["properties"]), ImageDefinitionReader.DefinitionFields.Select(f => f.Name).Order());
        Assert.Equal(Required(schema["required"]), ImageDefinitionReader.DefinitionFields.Where(f => f.Required).Select(f => f.Name).Order());
        var tags = schema["properties"]!["tags"]!;
        Assert.Equal(Names(tags["properties"]), ImageDefinitionReader.TagFields.Select(f => f.Name).Order());
        Assert.Equal(Required(tags["required"]), ImageDefinitionReader.TagFields.Where(f => f.Required).Select(f => f.Name).Order());
    }

    [Fact]
    public void Absent_fields_keep_the_definitions_defaults_and_given_ones_win()
    {
        var bare = ImageCatalog.Parse("repository: r\ndockerfile: d\ncontext: .\n", "images/x.yaml");
        Assert.Equal(new ImageDefinition { Repository = "r", Dockerfile = "d", Context = "." }.Platform, bare.Platform);
        Assert.True(bare.Tags.Environment);
        Assert.Empty(bare.Tags.LatestOn);
        Assert.Empty(bare.BuildArgs);
        Assert.Null(bare.IgnoreFile);
        Assert.False(bare.DefaultSet);

        var given = ImageCatalog.Parse("repository: r\ndockerfile: d\ncontext: .\nplatform: linux/arm64\nbuildArgs:\n  REF: '0123'\n  MODE: fast\n" +
            "ignoreFile: ~\ntags:\n  environment: false\n  latestOn: [production]\ndefaultSet: True\nruntimeReferenced: true\ndescription: \"8080\"\n", "images/x.yaml");
        Assert.Equal("linux/arm64", given.Platform);
        Assert.Equal(new Dictionary<string, string> { ["REF"] = "0123", ["MODE"] = "fast" }, given.BuildArgs);
        Assert.Null(given.IgnoreFile);
        Assert.False(given.Tags.Environment);
        Assert.Equal(["production"], given.Tags.LatestOn);
        Assert.True(given.DefaultSet);
        Assert.True(given.RuntimeReferenced);
        Assert.Equal("8080", given.Description);
    }

    [Theory]
    [InlineData("platform: 8080", "platform", "expected text, got a number")]
    [InlineData("platform: null", "platform", "expected text, got nothing (null)")]
    [InlineData("buildArgs:\n  PORT: 8080", "buildArgs.PORT", "expected text, got a number")]
    [InlineData("buildArgs: [a]", "buildArgs", "expected a mapping of names to text, got a list")]
    [InlineData("tags:\n  environment: yes-please", "tags.environment", "expected true or false, got text")]
    [InlineData("tags:\n  latestOn: production", "tags.latestOn", "expected a list of text, got text")]
    public void A_value_that_json_would_not_take_as_the_fields_type_is_named_with_what_was_expected(string line, string field, string expected)
    {
        var error = Assert.Throws<UsageException>(() => ImageCatalog.Parse($"repository: r\ndockerfile: d\ncontext: .\n{line}\n", "images/bad.yaml"));
        Assert.Contains($"images/bad.yaml: field '{field}' has the wrong type: {expected}", error.Problem);
    }

    [Fact]
    public void A_dockerfile_path_that_does_not_exist_names_the_catalog_file_and_field()
    {
        var image = ImageCatalog.Parse("repository: r\ndockerfile: orchestrator/Dockerfile.missing\ncontext: .\n", "images/x.yaml");
        var error = Assert.Throws<UsageException>(() => ImageSource.Resolve(image, RepositoryPaths.FixtureApp, RepositoryPaths.Images));
        Assert.Contains("images/x.yaml: field 'dockerfile': 'orchestrator/Dockerfile.missing' does not exist", error.Problem);
    }

    [Fact]
    public void A_dockerfile_outside_its_context_is_refused()
    {
        var image = ImageCatalog.Parse("repository: r\ndockerfile: orchestrator/Dockerfile\ncontext: services/ast\n", "images/x.yaml");
        var error = Assert.Throws<UsageException>(() => ImageSource.Resolve(image, RepositoryPaths.FixtureApp, RepositoryPaths.Images));
        Assert.Contains("outside the build context", error.Problem);
    }

    [Fact]
    public void A_source_root_that_does_not_exist_is_named()
    {
        var error = Assert.Throws<UsageException>(() => ImageSource.Resolve(Catalog["backend"], "/nonexistent/studio", RepositoryPaths.Images));
        Assert.Contains("The source root '/nonexistent/studio' does not exist", error.Problem);
        Assert.Contains("checkout of the application repository", error.Fix);
    }

    [Fact]
    public void Promotion_moves_latest_only_for_marked_images_on_production()
    {
        var catalog = Catalog;
        Assert.Equal(["beta"], ImageTags.Promotion(catalog["devserver"], "beta"));
        Assert.Equal(["production", "latest"], ImageTags.Promotion(catalog["devserver"], "production"));
        Assert.Equal(["production"], ImageTags.Promotion(catalog["backend"], "production"));
    }
}
