using Tesslate.Build.Registry;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("registry.test:5000/team/app:1.2@sha256:ab", "registry.test:5000/team/app", "1.2", "sha256:ab")]
    [InlineData("redis:7-alpine", "redis", "7-alpine", null)]
    [InlineData("localhost:5000/app", "localhost:5000/app", null, null)]
    [InlineData("app@sha256:ff", "app", null, "sha256:ff")]
    public void Image_references_split_into_repository_tag_and_digest(string text, string repository, string? tag, string? digest)
    {
        var reference = ImageReference.Parse(text);
        Assert.Equal(new ImageReference(repository, tag, digest), reference);
        Assert.Equal(text, reference.ToString());
    }

    [Theory]
    [InlineData("python:3.11-slim", "docker.io", "library/python", "3.11-slim")]
    [InlineData("ghcr.io/berriai/litellm:main", "ghcr.io", "berriai/litellm", "main")]
    [InlineData("localhost:5000/tesslate-backend", "localhost:5000", "tesslate-backend", "latest")]
    [InlineData("tesslate-test/busybox:1", "docker.io", "tesslate-test/busybox", "1")]
    public void Image_references_split_like_docker(string reference, string registry, string repository, string tag)
    {
        var parsed = ImageReference.Parse(reference);
        Assert.Equal((registry, repository, tag), (parsed.Registry, parsed.Path, parsed.Reference));
    }
}
