using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Tesslate.Build.Kubernetes;
using Tesslate.Build.Registry;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Release;

/// <summary>The tagger against the real registry (distribution): tags resolve and move by manifest re-put.</summary>
public sealed class RegistryImageTaggerTests(RegistryFixture registry)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Pushes a minimal OCI image (a config blob, no layers) and tags it; returns its manifest digest.</summary>
    private async Task<string> PushAsync(string path, string tag, string content)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{registry.Address}/") };
        var config = Encoding.UTF8.GetBytes($$$"""{"architecture":"amd64","os":"linux","config":{"Labels":{"c":"{{{content}}}"}},"rootfs":{"type":"layers","diff_ids":[]}}""");
        var configDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(config));
        using var start = await http.PostAsync($"v2/{path}/blobs/uploads/", null, Ct);
        start.EnsureSuccessStatusCode();
        var location = start.Headers.Location!.ToString();
        using var blob = new ByteArrayContent(config);
        blob.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        (await http.PutAsync($"{location}{(location.Contains('?') ? '&' : '?')}digest={configDigest}", blob, Ct)).EnsureSuccessStatusCode();
        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{config.Length}}},"layers":[]}""");
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        (await http.PutAsync($"v2/{path}/manifests/{tag}", body, Ct)).EnsureSuccessStatusCode();
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest));
    }

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
