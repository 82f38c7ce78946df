namespace Tesslate.Build.Kubernetes;

/// <summary>
/// The order objects are applied in, so that what a workload needs exists before it starts: namespaces, CRDs,
/// RBAC and service accounts, config/secrets/storage, services, other cluster objects, then workloads, then
/// custom resources (their CRDs and controllers are in by then). Stable within a rank (manifest order).
/// </summary>
public static class ApplyOrder
{
    public static int Rank(string kind) => kind switch
    {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "ServiceAccount" or "ClusterRole" or "Role" or "ClusterRoleBinding" or "RoleBinding" or "PodSecurityPolicy" => 2,
        "ConfigMap" or "Secret" or "StorageClass" or "PersistentVolume" or "PersistentVolumeClaim" or "ResourceQuota"
            or "LimitRange" or "PriorityClass" or "CSIDriver" or "VolumeSnapshotClass" => 3,
        "Service" => 4,
        "Ingress" or "IngressClass" or "NetworkPolicy" or "PodDisruptionBudget" or "Endpoints" or "EndpointSlice"
            or "MutatingWebhookConfiguration" or "ValidatingWebhookConfiguration" or "APIService" => 5,
        "Deployment" or "DaemonSet" or "StatefulSet" or "ReplicaSet" or "Pod" or "Job" or "CronJob" => 6,
        "HorizontalPodAutoscaler" => 7,
        _ => 8,
    };

    public static IReadOnlyList<KubeObject> Sort(IEnumerable<KubeObject> objects) =>
        [.. objects.Select((o, i) => (o, i)).OrderBy(p => Rank(p.o.Kind)).ThenBy(p => p.i).Select(p => p.o)];
}
