using k8s;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>
/// Inside namespace Tesslate.Build.*, the simple name <c>Kubernetes</c> binds to the adapter's namespace
/// (Tesslate.Build.Kubernetes) before <c>k8s.Kubernetes</c>; FakeKubeApi.CreateClient writes <c>new Kubernetes(…)</c>.
/// This type makes that name mean the real client again. Delete it once the fake writes <c>new k8s.Kubernetes(…)</c>.
/// </summary>
internal sealed class Kubernetes(KubernetesClientConfiguration configuration) : k8s.Kubernetes(configuration);
