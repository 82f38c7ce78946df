using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Tesslate.Build.Engine.Tests;

/// <summary>A secret is masked in the forms the formats we write or read give it, each produced by that format's own encoder.</summary>
public sealed class SecretRegistryTests
{
    private const string Secret = "a\"b\\c+/=d e<&'f\u00e9";

    private static SecretRegistry Registry()
    {
        var registry = new SecretRegistry();
        registry.Register(Secret);
        return registry;
    }

    public static TheoryData<string, string> Written => new()
    {
        { "JSON (System.Text.Json default)", JsonSerializer.Serialize(new { password = Secret }) },
        { "JSON (JsonNode, relaxed)", new JsonObject { ["password"] = Secret }.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) },
        { "HCL tfvars line", "  2: db_password = \"a\\\"b\\\\c+/=d e<&'f\u00e9\"" },
        { "URL query", "https://example.com/?token=" + Uri.EscapeDataString(Secret) },
        { "URL query, lower-case hex", "https://example.com/?token=" + System.Web.HttpUtility.UrlEncode(Secret) },
        { "form body", "password=" + System.Net.WebUtility.UrlEncode(Secret) },
        { "base64", "data: " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret)) },
    };

    [Theory]
    [MemberData(nameof(Written))]
    public void An_encoded_secret_is_masked(string format, string text)
    {
        var redacted = Registry().Redact(text);
        Assert.Contains(SecretRegistry.Mask, redacted);
        Assert.DoesNotContain("b\\\\c", redacted.Replace(SecretRegistry.Mask, "", StringComparison.Ordinal));
        Assert.False(redacted.Contains("d e", StringComparison.Ordinal) || redacted.Contains("d+e", StringComparison.Ordinal) || redacted.Contains("d%20e", StringComparison.Ordinal), $"{format}: {redacted}");
    }

    [Fact]
    public void Basic_credentials_are_masked_as_the_header_and_docker_config_carry_them()
    {
        var registry = new SecretRegistry();
        registry.RegisterBasicCredentials("AWS", "tok+en/value=");
        var header = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("AWS:tok+en/value="))).ToString();
        Assert.Equal($"Basic {SecretRegistry.Mask}", registry.Redact(header));
        Assert.Equal($"auth: {SecretRegistry.Mask}", registry.Redact("auth: tok+en/value="));
    }

    [Fact]
    public void Every_form_is_announced_once_so_a_CI_host_can_mask_it_too()
    {
        var registry = new SecretRegistry();
        var announced = new List<string>();
        registry.Registered += announced.Add;
        registry.Register("p\"w+d");
        registry.Register("p\"w+d");
        Assert.Contains("p\"w+d", announced);
        Assert.Contains("p\\\"w+d", announced);
        Assert.Contains("p%22w%2Bd", announced);
        Assert.Equal(announced.Distinct().Count(), announced.Count);
    }
}
