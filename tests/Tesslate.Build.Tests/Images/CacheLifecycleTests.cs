using System.Text.RegularExpressions;
using Tesslate.Build.Images;
using Tesslate.Build.Tests.Infrastructure;
using Xunit;

namespace Tesslate.Build.Tests.Images;

public sealed partial class CacheLifecycleTests
{
    [Fact]
    public async Task The_ecr_lifecycle_policy_never_expires_the_tag_the_builder_pushes_the_cache_under()
    {
        var shared = await Hcl2Json.StackAsync("terraform/shared");
        var policy = shared.Files.Values.Where(f => f.TryGetProperty("locals", out _)).SelectMany(f => f.GetProperty("locals").EnumerateArray())
            .Single(l => l.TryGetProperty("ecr_lifecycle_policy", out _)).GetProperty("ecr_lifecycle_policy").GetString()!;

        // Tagged images expire only through a rule whose prefixes match their tag (or a tagStatus "any" rule).
        var prefixes = TagPrefixes().Matches(policy).SelectMany(list => Quoted().Matches(list.Value).Select(m => m.Groups[1].Value)).ToList();
        Assert.NotEmpty(prefixes);
        Assert.DoesNotContain(prefixes, prefix => ImageTags.Cache.StartsWith(prefix, StringComparison.Ordinal));
        Assert.DoesNotContain("\"any\"", policy, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"tagPrefixList\s*=\s*\[[^\]]*\]")]
    private static partial Regex TagPrefixes();

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex Quoted();
}
