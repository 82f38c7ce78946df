using System.Runtime.CompilerServices;
using k8s.Models;
using Serilog;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Kubernetes;

/// <summary>Paths of the overlay fixture and small builders for typed objects used by the pure tests.</summary>
internal static class KubeFixtures
{
    public static string OverlayFixture(string name = "overlay", [CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "overlay-fixture", name);

    public static ILogger Logger { get; } = new LoggerConfiguration().CreateLogger();

    public static async Task<IReadOnlyList<KubeObject>> RenderFixtureAsync(string name = "overlay") =>
        await new KustomizeRenderer(new ProcessRunner(Logger)).RenderAsync(OverlayFixture(name), TestContext.Current.CancellationToken);

    public static V1Deployment Deployment(string name, int replicas = 1, long generation = 1, long? observed = 1,
        int updated = 1, int total = 1, int available = 1, string? progressingReason = null) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "tesslate", Generation = generation },
            Spec = new V1DeploymentSpec { Replicas = replicas, Selector = new V1LabelSelector(), Template = new V1PodTemplateSpec() },
            Status = new V1DeploymentStatus
            {
                ObservedGeneration = observed,
                UpdatedReplicas = updated,
                Replicas = total,
                AvailableReplicas = available,
                Conditions = progressingReason is null ? null : [new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = progressingReason }],
            },
        };

    public static V1Pod Pod(string name, string hash = "new", params V1ContainerStatus[] statuses) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "tesslate", Labels = new Dictionary<string, string> { ["pod-template-hash"] = hash } },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "registry.test/app@sha256:abc", Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("512Mi") } } }] },
        Status = new V1PodStatus { Phase = "Pending", ContainerStatuses = statuses },
    };

    public static V1ContainerStatus Waiting(string reason, string? message = null, string name = "app", int restarts = 0, V1ContainerStateTerminated? last = null) => new()
    {
        Name = name,
        Image = "registry.test/app@sha256:abc",
        ImageID = "",
        Ready = false,
        RestartCount = restarts,
        State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } },
        LastState = last is null ? null : new V1ContainerState { Terminated = last },
    };

    public static Corev1Event Event(string pod, string reason, string message, string type = "Warning", int count = 1) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"{pod}.{Guid.NewGuid():N}", NamespaceProperty = "tesslate" },
        InvolvedObject = new V1ObjectReference { Kind = "Pod", Name = pod, NamespaceProperty = "tesslate" },
        Reason = reason,
        Message = message,
        Type = type,
        Count = count,
        LastTimestamp = DateTime.UtcNow,
    };
}
