using Tesslate.Build.Kubernetes;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>The tagger against the real registry (distribution): tags resolve and move by manifest re-put.</summary>
public sealed class RegistryImageTaggerTests(RegistryFixture registry)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<string> PushAsync(string path, string tag, string content) => TestImages.PushAsync(registry.Address, path, tag, content, Ct);

    [Fact]
    public async Task Tags_resolve_to_digests_and_move_by_manifest_re_put()
    {
        var path = $"{RegistryFixture.NewNamespace()}/app";
        var v1 = await PushAsync(path, "git-1111", "one");
        var v2 = await PushAsync(path, "git-2222", "two");
        using var client = new RegistryClient(registry.Address);
        var tagger = new RegistryImageTagger(client);
        var repository = $"{registry.Address}/{path}";

        Assert.Equal(v1, await tagger.ResolveDigestAsync(repository, "git-1111", Ct));
        Assert.Null(await tagger.ResolveDigestAsync(repository, "beta", Ct));

        await tagger.TagAsync(repository, v2, "beta", Ct);
        Assert.Equal(v2, await tagger.ResolveDigestAsync(repository, "beta", Ct));
        await tagger.TagAsync(repository, v1, "beta", Ct);
        Assert.Equal(v1, await tagger.ResolveDigestAsync(repository, "beta", Ct));

        var plan = RollbackPlanner.FromTagAsync(
            [ReleaseHistoryTests.Draft("run-1") with { Workloads = [new WorkloadRelease(new ObjectRef("Deployment", "ns", "app"), new Dictionary<string, string>(), new Dictionary<string, string> { ["app"] = $"{repository}@{v1}" })] }],
            "git-2222", tagger, null, "h", Ct);
        Assert.Equal($"{repository}@{v2}", (await plan).Restores.Single().Images["app"]);
    }

    [Fact]
    public async Task A_repository_of_another_registry_is_refused()
    {
        using var client = new RegistryClient(registry.Address);
        var e = await Assert.ThrowsAsync<Tesslate.Build.Engine.BuildFailure>(() => new RegistryImageTagger(client).TagAsync("ghcr.io/other/app", "sha256:aa", "beta", Ct));
        Assert.Contains("not in registry", e.Problem);
    }
}
