using Tesslate.Build.Images;
using Tesslate.Build.Tests.Infrastructure;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed class CacheLifecycleTests
{
    [Fact]
    public async Task The_ecr_lifecycle_rule_for_cache_images_matches_the_tag_the_builder_pushes_the_cache_under()
    {
        var shared = await Hcl2Json.StackAsync("terraform/shared");
        var prefix = shared.Variables["cache_tag_prefix"].GetProperty("default").GetString()!;

        Assert.StartsWith(prefix, ImageTags.Cache, StringComparison.Ordinal);
    }
}
