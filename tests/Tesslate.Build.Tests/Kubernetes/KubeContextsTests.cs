using Tesslate.Build.Engine;
using Tesslate.Build.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

public sealed class KubeContextsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteKubeconfig()
    {
        var path = Path.Combine(_directory, "config");
        File.WriteAllText(path, """
            apiVersion: v1
            kind: Config
            current-context: kind-dev
            clusters:
              - name: kind-dev
                cluster:
                  server: https://127.0.0.1:6443
                  insecure-skip-tls-verify: true
              - name: minikube
                cluster:
                  server: https://127.0.0.1:8443
                  insecure-skip-tls-verify: true
            users:
              - name: dev
                user:
                  token: dev-token
            contexts:
              - name: kind-dev
                context: { cluster: kind-dev, user: dev }
              - name: minikube
                context: { cluster: minikube, user: dev, namespace: apps }
            """);
        return path;
    }

    [Fact]
    public void A_named_context_is_loaded_in_memory_without_changing_the_kubeconfig()
    {
        var path = WriteKubeconfig();
        var before = File.ReadAllText(path);
        var config = KubeContexts.Load("minikube", [path], Choose);
        Assert.Equal("https://127.0.0.1:8443", config.Host.TrimEnd('/'));
        Assert.Equal("apps", config.Namespace);
        Assert.Equal("minikube", config.CurrentContext);
        Assert.Equal(before, File.ReadAllText(path));
    }

    [Fact]
    public void Without_a_name_the_current_context_is_used() =>
        Assert.Equal("https://127.0.0.1:6443", KubeContexts.Load(null, [WriteKubeconfig()], Choose).Host.TrimEnd('/'));

    [Fact]
    public void An_unknown_context_is_a_usage_error_listing_the_contexts_that_exist()
    {
        var e = Assert.Throws<UsageException>(() => KubeContexts.Load("production", [WriteKubeconfig()], Choose));
        Assert.Contains("'production'", e.Problem);
        Assert.Contains("kind-dev, minikube", e.Problem);
        Assert.Equal($"Choose one of those names with {Choose} (kubectl config get-contexts lists them).", e.Fix);
    }

    [Fact]
    public void A_missing_kubeconfig_is_a_missing_prerequisite_whose_fix_says_how_the_caller_names_a_context()
    {
        var e = Assert.Throws<PrerequisiteMissingException>(() => KubeContexts.Load(null, [Path.Combine(_directory, "nope")], Choose));
        Assert.EndsWith($"then choose it with {Choose}.", e.Fix);
    }

    // The caller's words for choosing a context: the adapter names no flag of the pipeline.
    private const string Choose = "--kube-context <name>";
}
