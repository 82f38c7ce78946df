using Tesslate.Build.Docker;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed class DockerBuildCommandTests
{
    private static readonly DockerBuildSpec Spec = new()
    {
        Dockerfile = "/src/orchestrator/Dockerfile",
        ContextDirectory = "/tmp/ctx",
        Platform = "linux/amd64",
        Tags = ["reg:5000/tesslate-backend:git-abc", "reg:5000/tesslate-backend:src-123"],
        Labels = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["org.opencontainers.image.revision"] = "abc" }),
        BuildArgs = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["REF"] = "v1" }),
    };

    [Fact]
    public void Buildx_builds_for_the_platform_and_pushes_every_tag_in_one_call()
    {
        var arguments = DockerBuildCommands.BuildxBuild(Spec with { Builder = "remote-amd64", RegistryCache = "reg:5000/tesslate-backend:buildcache", NoCache = true });
        Assert.Equal(
        [
            "buildx", "build", "--builder", "remote-amd64", "--platform", "linux/amd64", "--file", "/src/orchestrator/Dockerfile",
            "--tag", "reg:5000/tesslate-backend:git-abc", "--tag", "reg:5000/tesslate-backend:src-123",
            "--build-arg", "REF=v1", "--label", "org.opencontainers.image.revision=abc", "--no-cache",
            "--cache-from", "type=registry,ref=reg:5000/tesslate-backend:buildcache",
            "--cache-to", "type=registry,ref=reg:5000/tesslate-backend:buildcache,mode=max,image-manifest=true,oci-mediatypes=true",
            "--provenance=false", "--push", "/tmp/ctx",
        ], arguments);
    }

    [Fact]
    public void The_registry_cache_is_exported_as_an_oci_image_manifest_which_ecr_accepts()
    {
        var arguments = DockerBuildCommands.BuildxBuild(Spec with { RegistryCache = "123.dkr.ecr.us-east-1.amazonaws.com/tesslate-backend:buildcache" });
        var cacheTo = arguments[arguments.ToList().IndexOf("--cache-to") + 1].Split(',');
        Assert.Contains("image-manifest=true", cacheTo);
        Assert.Contains("oci-mediatypes=true", cacheTo);
        Assert.Contains("mode=max", cacheTo);
    }

    [Fact]
    public void Buildx_without_builder_or_cache_export_omits_those_flags()
    {
        var arguments = DockerBuildCommands.BuildxBuild(Spec);
        Assert.DoesNotContain("--builder", arguments);
        Assert.DoesNotContain("--cache-to", arguments);
        Assert.DoesNotContain("--no-cache", arguments);
        Assert.Equal("--push", arguments[^2]);
    }

    [Fact]
    public void The_classic_builder_builds_locally_and_pushes_each_tag_separately()
    {
        var arguments = DockerBuildCommands.ClassicBuild(Spec);
        Assert.Equal("build", arguments[0]);
        Assert.DoesNotContain("--push", arguments);
        Assert.Contains("--platform", arguments);
        Assert.Equal("/tmp/ctx", arguments[^1]);
        Assert.Equal(["push", "reg:5000/tesslate-backend:git-abc"], DockerBuildCommands.Push(Spec.Tags[0]));
    }
}
