using Tesslate.Build.Images;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed class DockerIgnoreTests
{
    [Theory]
    [InlineData(".env", ".env", true)]
    [InlineData(".env", "orchestrator/.env", false)] // anchored at the context root
    [InlineData("**/.env", "orchestrator/.env", true)]
    [InlineData("**/.env", ".env", true)]
    [InlineData("**/.venv", "orchestrator/.venv/bin/python", true)]
    [InlineData("node_modules", "node_modules/a/b.js", true)] // a directory excludes what is below it
    [InlineData("*.db", "app.db", true)]
    [InlineData("*.db", "data/app.db", false)] // '*' stops at '/'
    [InlineData("data/*.db", "data/app.db", true)]
    [InlineData("/docs", "docs/readme.md", true)]
    [InlineData("./docs/", "docs/readme.md", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "a/c", false)]
    [InlineData("[a-c]x", "bx", true)]
    [InlineData("**", "anything/at/all", true)]
    [InlineData("src/**/test", "src/test", true)]
    [InlineData("src/**/test", "src/a/b/test", true)]
    [InlineData("# comment", "# comment", false)]
    public void Matches_like_docker(string pattern, string path, bool excluded) =>
        Assert.Equal(excluded, DockerIgnore.Parse(pattern).IsExcluded(path));

    [Fact]
    public void Exclamation_lines_reinclude_and_the_last_match_wins()
    {
        var ignore = DockerIgnore.Parse("*.md\n!README.md\nREADME.md\n!docs/README.md\n");
        Assert.True(ignore.IsExcluded("CHANGES.md"));
        Assert.True(ignore.IsExcluded("README.md")); // excluded again by the last line that matches it
        Assert.False(ignore.IsExcluded("docs/README.md"));
        Assert.True(ignore.HasExceptions);
    }

    [Fact]
    public void Exceptions_reach_inside_excluded_directories_when_walking_a_context()
    {
        var directory = Directory.CreateTempSubdirectory("tesslate-ignore-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(directory, "vendor", "keep"));
            File.WriteAllText(Path.Combine(directory, "vendor", "drop.txt"), "x");
            File.WriteAllText(Path.Combine(directory, "vendor", "keep", "file.txt"), "x");
            File.WriteAllText(Path.Combine(directory, "main.txt"), "x");
            var files = BuildContext.Files(directory, DockerIgnore.Parse("vendor\n!vendor/keep\n"));
            Assert.Equal(["main.txt", "vendor/keep/file.txt"], files.Select(f => f.RelativePath));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public void The_root_context_ignore_file_keeps_developer_secrets_and_virtualenvs_out()
    {
        var ignore = DockerIgnore.Load(Path.Combine(Fixtures.RepositoryPaths.Images, "root-context.dockerignore"));
        Assert.True(ignore.IsExcluded("orchestrator/.env"));
        Assert.True(ignore.IsExcluded("orchestrator/.venv/lib/site.py"));
        Assert.True(ignore.IsExcluded("app/node_modules/react/index.js"));
        Assert.False(ignore.IsExcluded("orchestrator/app/main.py"));
        Assert.False(ignore.IsExcluded("packages/tesslate-agent/agent.txt"));
    }
}
