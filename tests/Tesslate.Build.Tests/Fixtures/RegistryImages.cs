using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>Pushes a minimal OCI image (a config blob with the given labels, no layers) to a plain-HTTP registry.</summary>
internal static class RegistryImages
{
    /// <returns>The manifest digest.</returns>
    public static async Task<string> PushAsync(string registry, string path, string tag, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{registry}/") };
        var labelObject = new JsonObject();
        foreach (var (name, value) in labels)
            labelObject[name] = value;
        var config = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Labels"] = labelObject },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray() },
        }.ToJsonString());
        var configDigest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(config));
        using var start = await http.PostAsync($"v2/{path}/blobs/uploads/", null, cancellationToken);
        start.EnsureSuccessStatusCode();
        var location = start.Headers.Location!.ToString();
        using var blob = new ByteArrayContent(config);
        blob.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        (await http.PutAsync($"{location}{(location.Contains('?') ? '&' : '?')}digest={configDigest}", blob, cancellationToken)).EnsureSuccessStatusCode();
        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{config.Length}}},"layers":[]}""");
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        (await http.PutAsync($"v2/{path}/manifests/{tag}", body, cancellationToken)).EnsureSuccessStatusCode();
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest));
    }
}
