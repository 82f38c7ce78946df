using System.Text.Json;
using Tesslate.Build.Aws;
using Tesslate.Build.Tests.Fixtures;
using Xunit;

namespace Tesslate.Build.Tests.Aws;

[Collection("moto")]
public sealed class EcrTests(MotoFixture moto) : MotoTests(moto)
{
    [Fact]
    public async Task The_authorization_token_is_decoded_into_registry_user_and_password()
    {
        using var session = Session();
        var auth = await session.Ecr.GetAuthorizationTokenAsync(TestContext.Current.CancellationToken);
        Assert.Equal("123456789012.dkr.ecr.us-east-1.amazonaws.com", auth.Registry);
        Assert.Equal("AWS", auth.Username);
        Assert.Equal("123456789012-auth-token", auth.Password);
        Assert.Equal(2015, auth.ExpiresAt.Year);
        Assert.DoesNotContain(auth.Password, auth.ToString());
    }

    [Fact]
    public async Task A_token_that_expired_long_ago_is_fetched_again_for_each_use_not_refused()
    {
        using var session = Session();
        var credentials = new EcrCredentials(session.Ecr);
        var first = await credentials.GetAsync(TestContext.Current.CancellationToken);
        var second = await credentials.GetAsync(TestContext.Current.CancellationToken);
        Assert.NotSame(first, second);
        Assert.Equal(first.Password, second.Password);
    }

    [Fact]
    public void Refresh_starts_five_minutes_before_expiry()
    {
        var expires = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var auth = new EcrAuthorization("r", "AWS", "p", expires);
        Assert.False(auth.NeedsRefresh(expires.AddMinutes(-5.5)));
        Assert.True(auth.NeedsRefresh(expires.AddMinutes(-5)));
        Assert.True(auth.NeedsRefresh(expires.AddYears(10)));
    }

    [Fact]
    public void A_token_that_is_not_user_colon_password_is_refused_clearly()
    {
        var error = Assert.Throws<Engine.BuildFailure>(() => EcrAuthorization.Parse(Convert.ToBase64String("nocolon"u8.ToArray()), "https://x", DateTimeOffset.MaxValue));
        Assert.Contains("user:password", error.Problem);
    }

    [Fact]
    public async Task DescribeImages_finds_a_pushed_tag_and_its_digest()
    {
        var ct = TestContext.Current.CancellationToken;
        await Moto.AwsCliAsync("ecr", "create-repository", "--repository-name", "tesslate-backend");
        var put = JsonDocument.Parse(await Moto.AwsCliAsync("ecr", "put-image", "--repository-name", "tesslate-backend", "--image-tag", "abc123", "--image-manifest", Manifest));
        var digest = put.RootElement.GetProperty("image").GetProperty("imageId").GetProperty("imageDigest").GetString();

        using var session = Session();
        var image = await session.Ecr.DescribeImageAsync("tesslate-backend", "abc123", ct);
        Assert.Equal(digest, image.Digest);
        Assert.Contains("abc123", image.Tags);
        var byDigest = await session.Ecr.DescribeImageAsync("tesslate-backend", digest!, ct);
        Assert.Equal(digest, byDigest.Digest);
    }

    [Fact]
    public async Task DescribeImages_of_a_missing_tag_is_ImageNotFound_and_FindImage_returns_null()
    {
        var ct = TestContext.Current.CancellationToken;
        await Moto.AwsCliAsync("ecr", "create-repository", "--repository-name", "tesslate-frontend");
        using var session = Session();
        var error = await Assert.ThrowsAsync<ImageNotFoundException>(() => session.Ecr.DescribeImageAsync("tesslate-frontend", "nope", ct));
        Assert.Equal("ImageNotFoundException", error.Code);
        Assert.Contains("DescribeImages", error.Problem);
        Assert.NotNull(error.Fix);
        Assert.Null(await session.Ecr.FindImageAsync("tesslate-frontend", "nope", ct));
    }

    [Fact]
    public async Task A_missing_repository_is_RepositoryNotFound_even_for_FindImage()
    {
        using var session = Session();
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => session.Ecr.FindImageAsync("no-such-repo", "x", TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => session.Ecr.DescribeRepositoriesAsync(["no-such-repo"], TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_image_is_retagged_from_its_manifest_without_pulling()
    {
        var ct = TestContext.Current.CancellationToken;
        await Moto.AwsCliAsync("ecr", "create-repository", "--repository-name", "tesslate-ast");
        await Moto.AwsCliAsync("ecr", "put-image", "--repository-name", "tesslate-ast", "--image-tag", "sha-1", "--image-manifest", Manifest);
        using var session = Session();
        var manifest = await session.Ecr.BatchGetImageAsync("tesslate-ast", "sha-1", ct);
        await session.Ecr.PutImageAsync("tesslate-ast", manifest.Manifest, "beta", manifest.MediaType, ct);
        await session.Ecr.PutImageAsync("tesslate-ast", manifest.Manifest, "beta", manifest.MediaType, ct);
        var retagged = await session.Ecr.DescribeImageAsync("tesslate-ast", "beta", ct);
        Assert.Equal(manifest.Digest, retagged.Digest);
    }

    private const string Manifest = """{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},"layers":[]}""";
}
