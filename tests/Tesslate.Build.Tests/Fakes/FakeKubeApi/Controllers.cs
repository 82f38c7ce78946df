using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Tesslate.Build.Tests.Fakes;

/// <summary>
/// The simulated controller-manager and kubelet: Deployments own ReplicaSets that own pods, DaemonSets and
/// StatefulSets own pods, pods become Ready after their share of the workload's rollout duration unless a fault holds
/// them, status fields move as the real controllers move them, and dependents of deleted owners are collected.
/// </summary>
internal sealed class Controllers(KubeObjectStore store, FakeClock clock, Simulation simulation, PodFaults faults)
{
    private const string TemplateHashLabel = "pod-template-hash";
    private const string RevisionHashLabel = "controller-revision-hash";
    private const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    private readonly Dictionary<string, PodSim> _pods = [];
    private readonly HashSet<string> _eventsSent = [];
    private int _events;

    private sealed class PodSim
    {
        public required DateTimeOffset CreatedAt { get; init; }
        public required TimeSpan ReadyDelay { get; init; }
        public required string Workload { get; init; }
        public bool EverReady { get; set; }
        public int Restarts { get; set; }
    }

    internal IReadOnlyList<string>? PreviousLogs(string ns, string podUid, out string workload)
    {
        lock (store.Gate)
        {
            workload = _pods.TryGetValue(podUid, out var sim) ? sim.Workload : "";
            return sim is not null && sim.Restarts > 0 ? faults.For(ns, sim.Workload)?.PreviousLogs ?? [] : null;
        }
    }

    internal string WorkloadOf(string podUid)
    {
        lock (store.Gate)
        {
            return _pods.TryGetValue(podUid, out var sim) ? sim.Workload : "";
        }
    }

    public void Tick()
    {
        if (simulation.ControllersPaused)
        {
            return;
        }

        lock (store.Gate)
        {
            var now = clock.Now;
            FinishDeletions(now);
            CollectGarbage();
            foreach (var d in store.List(KubeResources.Deployments))
            {
                ReconcileDeployment(d, now);
            }

            foreach (var rs in store.List(KubeResources.ReplicaSets))
            {
                ReconcileReplicaSetPods(rs, now);
            }

            foreach (var ds in store.List(KubeResources.DaemonSets))
            {
                ReconcileDaemonSet(ds, now);
            }

            foreach (var sts in store.List(KubeResources.StatefulSets))
            {
                ReconcileStatefulSet(sts, now);
            }

            foreach (var pod in store.List(KubeResources.Pods))
            {
                RunKubelet(pod, now);
            }

            foreach (var rs in store.List(KubeResources.ReplicaSets))
            {
                WriteReplicaSetStatus(rs);
            }

            foreach (var d in store.List(KubeResources.Deployments))
            {
                WriteDeploymentStatus(d, now);
            }

            foreach (var ds in store.List(KubeResources.DaemonSets))
            {
                WriteDaemonSetStatus(ds);
            }

            foreach (var sts in store.List(KubeResources.StatefulSets))
            {
                WriteStatefulSetStatus(sts);
            }
        }
    }

    // ---- garbage collection ---------------------------------------------------------------------------------------

    private void CollectGarbage()
    {
        var owned = new[] { KubeResources.ReplicaSets, KubeResources.Pods };
        var uids = new HashSet<string>();
        foreach (var r in new[] { KubeResources.Deployments, KubeResources.ReplicaSets, KubeResources.DaemonSets, KubeResources.StatefulSets, KubeResources.Get("batch", "jobs"), KubeResources.Get("batch", "cronjobs") })
        {
            uids.UnionWith(store.Uids(r));
        }

        foreach (var r in owned)
        {
            var orphans = store.List(r, null, o => o["metadata"]?["ownerReferences"] is JsonArray { Count: > 0 } owners
                && owners.All(ow => !uids.Contains(ow.Str("uid") ?? "")) && !IsTerminating(o));
            foreach (var o in orphans)
            {
                // The garbage collector deletes through the API: an orphaned pod terminates gracefully.
                store.DeleteGracefully(r, o.Str("metadata", "namespace"), o.Str("metadata", "name")!);
            }
        }

        var live = store.Uids(KubeResources.Pods);
        foreach (var uid in _pods.Keys.Where(u => !live.Contains(u)).ToList())
        {
            _pods.Remove(uid);
        }
    }

    private void Delete(KubeResource r, JsonObject o) =>
        store.Delete(r, o.Str("metadata", "namespace"), o.Str("metadata", "name")!);

    // ---- graceful deletion: the kubelet stopping deleted pods, the namespace controller, finalizers ----------------

    private static bool IsTerminating(JsonObject o) => o["metadata"]?["deletionTimestamp"] is not null;

    /// <summary>Pods that count for a ReplicaSet or a Deployment's status: the real controllers leave Terminating ones out.</summary>
    private List<JsonObject> ActivePods(JsonObject owner) => [.. OwnedBy(KubeResources.Pods, owner).Where(p => !IsTerminating(p))];

    private void FinishDeletions(DateTimeOffset now)
    {
        foreach (var (r, o) in store.Terminating())
        {
            var ns = o.Str("metadata", "namespace");
            var name = o.Str("metadata", "name")!;
            if (o["metadata"]?["finalizers"] is JsonArray { Count: > 0 })
            {
                continue;
            }

            if (r == KubeResources.Namespaces)
            {
                // The namespace controller deletes every object in it (pods gracefully) and lets it go once it is empty.
                var contents = store.Contents(name);
                foreach (var (kind, child) in contents.Where(c => !IsTerminating(c.Object)))
                {
                    store.DeleteGracefully(kind, name, child.Str("metadata", "name")!);
                }

                if (store.Contents(name).Count == 0)
                {
                    store.Delete(KubeResources.Namespaces, null, name);
                }
            }
            else if (r == KubeResources.Pods)
            {
                // The kubelet sent SIGTERM when the deletion began; the pod goes once its containers stopped, or at its deadline.
                var grace = TimeSpan.FromSeconds(o.Long("metadata", "deletionGracePeriodSeconds") ?? 0);
                var deadline = KubeJson.ParseTime(o["metadata"]!["deletionTimestamp"]) ?? now;
                var workload = _pods.TryGetValue(o.Str("metadata", "uid") ?? "", out var sim) ? sim.Workload : name;
                var shutdown = simulation.ShutdownDuration(ns!, workload);
                if (now >= deadline - grace + (shutdown < grace ? shutdown : grace))
                {
                    store.Delete(r, ns, name);
                }
            }
            else
            {
                store.Delete(r, ns, name);
            }
        }
    }

    // ---- deployments ----------------------------------------------------------------------------------------------

    private void ReconcileDeployment(JsonObject d, DateTimeOffset now)
    {
        var ns = d.Str("metadata", "namespace")!;
        var name = d.Str("metadata", "name")!;
        var template = d["spec"]!["template"]!.AsObject();
        var hash = TemplateHash(template);
        var replicas = (int)(d.Long("spec", "replicas") ?? 1);
        var rses = OwnedBy(KubeResources.ReplicaSets, d);
        var newRs = rses.FirstOrDefault(rs => rs.Str("metadata", "labels", TemplateHashLabel) == hash);
        var maxRevision = rses.Select(Revision).DefaultIfEmpty(0).Max();
        if (newRs is null)
        {
            newRs = CreateReplicaSet(d, template, hash, maxRevision + 1);
        }
        else if (Revision(newRs) < maxRevision)
        {
            // Rolling back to an older template makes its ReplicaSet the newest revision again, as the real controller does.
            newRs.Obj("metadata").Obj("annotations")[RevisionAnnotation] = (maxRevision + 1).ToString(CultureInfo.InvariantCulture);
            newRs = store.SystemWrite(KubeResources.ReplicaSets, newRs);
        }

        var olds = rses.Where(rs => rs.Str("metadata", "name") != newRs.Str("metadata", "name")).ToList();
        var revision = newRs.Str("metadata", "annotations", RevisionAnnotation);
        if (d.Str("metadata", "annotations", RevisionAnnotation) != revision)
        {
            d.Obj("metadata").Obj("annotations")[RevisionAnnotation] = revision;
            d = store.SystemWrite(KubeResources.Deployments, d);
        }

        if (d.Bool("spec", "paused") == true)
        {
            return;
        }

        var newPods = ActivePods(newRs);
        var newAvailable = newPods.Count(IsReady);
        var newSpec = (int)(newRs.Long("spec", "replicas") ?? 0);
        var oldSpecs = olds.Sum(rs => (int)(rs.Long("spec", "replicas") ?? 0));
        if (d.Str("spec", "strategy", "type") == "Recreate")
        {
            if (oldSpecs > 0)
            {
                foreach (var old in olds.Where(o => o.Long("spec", "replicas") > 0))
                {
                    Scale(d, old, 0);
                }
            }
            else if (olds.All(o => OwnedBy(KubeResources.Pods, o).Count == 0) && newSpec != replicas)
            {
                Scale(d, newRs, replicas);
            }

            return;
        }

        var (surge, unavailable) = RollingParameters(d, replicas);
        var total = newSpec + oldSpecs;
        if (newSpec > replicas)
        {
            Scale(d, newRs, replicas);
            newSpec = replicas;
        }
        else if (newSpec < replicas && total < replicas + surge)
        {
            var target = Math.Min(replicas, newSpec + (replicas + surge - total));
            Scale(d, newRs, target);
            newSpec = target;
        }

        if (oldSpecs > 0)
        {
            var minAvailable = replicas - unavailable;
            var allPods = newSpec + oldSpecs;
            var newUnavailable = newSpec - newAvailable;
            var canScaleDown = allPods - minAvailable - newUnavailable;
            foreach (var old in olds.OrderBy(Revision))
            {
                var oldReplicas = (int)(old.Long("spec", "replicas") ?? 0);
                if (canScaleDown <= 0 || oldReplicas == 0)
                {
                    continue;
                }

                var by = Math.Min(canScaleDown, oldReplicas);
                Scale(d, old, oldReplicas - by);
                canScaleDown -= by;
            }
        }
    }

    private static (int Surge, int Unavailable) RollingParameters(JsonObject d, int replicas)
    {
        var rolling = d["spec"]?["strategy"]?["rollingUpdate"];
        var surge = IntOrPercent(rolling?["maxSurge"], replicas, roundUp: true, fallback: "25%");
        var unavailable = IntOrPercent(rolling?["maxUnavailable"], replicas, roundUp: false, fallback: "25%");
        if (surge == 0 && unavailable == 0)
        {
            unavailable = 1;
        }

        return (surge, unavailable);
    }

    private static int IntOrPercent(JsonNode? value, int of, bool roundUp, string fallback)
    {
        var text = value is null ? fallback : value.ToString();
        if (text.EndsWith('%'))
        {
            var fraction = double.Parse(text[..^1], CultureInfo.InvariantCulture) * of / 100.0;
            return (int)(roundUp ? Math.Ceiling(fraction) : Math.Floor(fraction));
        }

        return int.Parse(text, CultureInfo.InvariantCulture);
    }

    private JsonObject CreateReplicaSet(JsonObject d, JsonObject template, string hash, int revision)
    {
        var ns = d.Str("metadata", "namespace")!;
        var name = d.Str("metadata", "name")!;
        var podTemplate = template.Clone();
        podTemplate.Obj("metadata").Obj("labels")[TemplateHashLabel] = hash;
        var selector = d["spec"]!["selector"]!.DeepClone().AsObject();
        selector.Obj("matchLabels")[TemplateHashLabel] = hash;
        var labels = podTemplate["metadata"]!["labels"]!.DeepClone();
        var rs = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = $"{name}-{hash}",
                ["labels"] = labels,
                ["annotations"] = new JsonObject
                {
                    [RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture),
                    ["deployment.kubernetes.io/desired-replicas"] = (d.Long("spec", "replicas") ?? 1).ToString(CultureInfo.InvariantCulture),
                },
                ["ownerReferences"] = new JsonArray(OwnerReference(d)),
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 0,
                ["selector"] = selector,
                ["template"] = podTemplate,
            },
        };
        return store.Create(KubeResources.ReplicaSets, ns, rs);
    }

    private void Scale(JsonObject d, JsonObject rs, int to)
    {
        var from = (int)(rs.Long("spec", "replicas") ?? 0);
        if (from == to)
        {
            return;
        }

        rs["spec"]!["replicas"] = to;
        store.SystemWrite(KubeResources.ReplicaSets, rs);
        var rsName = rs.Str("metadata", "name");
        Event(d, "Normal", "ScalingReplicaSet", to > from ? $"Scaled up replica set {rsName} from {from} to {to}" : $"Scaled down replica set {rsName} from {from} to {to}", "deployment-controller", once: false);
    }

    private static int Revision(JsonObject rs) =>
        int.TryParse(rs.Str("metadata", "annotations", RevisionAnnotation), CultureInfo.InvariantCulture, out var r) ? r : 0;

    private void WriteDeploymentStatus(JsonObject d, DateTimeOffset now)
    {
        var replicas = (int)(d.Long("spec", "replicas") ?? 1);
        var hash = TemplateHash(d["spec"]!["template"]!.AsObject());
        var rses = OwnedBy(KubeResources.ReplicaSets, d);
        var newRs = rses.FirstOrDefault(rs => rs.Str("metadata", "labels", TemplateHashLabel) == hash);
        var pods = rses.SelectMany(ActivePods).ToList();
        var newPods = newRs is null ? [] : ActivePods(newRs);
        var ready = pods.Count(IsReady);
        var specTotal = rses.Sum(rs => (int)(rs.Long("spec", "replicas") ?? 0));
        var old = d["status"] as JsonObject ?? [];
        var status = new JsonObject
        {
            ["observedGeneration"] = d.Long("metadata", "generation"),
            ["replicas"] = pods.Count,
            ["updatedReplicas"] = newPods.Count,
            ["readyReplicas"] = ready,
            ["availableReplicas"] = ready,
        };
        if (specTotal - ready > 0)
        {
            status["unavailableReplicas"] = specTotal - ready;
        }

        foreach (var k in new[] { "replicas", "updatedReplicas", "readyReplicas", "availableReplicas" })
        {
            if (status.Long(k) == 0)
            {
                status.Remove(k);
            }
        }

        var (_, maxUnavailable) = RollingParameters(d, replicas);
        var conditions = new JsonArray();
        var available = ready >= replicas - maxUnavailable;
        conditions.Add(Condition(old, "Available", available ? "True" : "False",
            available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
            available ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", now, progressed: false));

        var rsName = newRs?.Str("metadata", "name") ?? "";
        var previous = FindCondition(old, "Progressing");
        var complete = newPods.Count == replicas && pods.Count == replicas && newPods.Count(IsReady) == replicas;
        var countsMoved = !KubeJson.Same(Counts(old), Counts(status));
        var newRsChanged = previous is not null && !(previous.Str("message") ?? "").Contains($"\"{rsName}\"", StringComparison.Ordinal);
        var deadline = TimeSpan.FromSeconds(d.Long("spec", "progressDeadlineSeconds") ?? 600);
        JsonObject progressing;
        if (complete)
        {
            progressing = Condition(old, "Progressing", "True", "NewReplicaSetAvailable", $"ReplicaSet \"{rsName}\" has successfully progressed.", now, progressed: false);
        }
        else if (previous is null || newRsChanged)
        {
            progressing = Condition(old, "Progressing", "True", "NewReplicaSetCreated", $"Created new replica set \"{rsName}\"", now, progressed: true);
        }
        else if (previous.Str("reason") == "ProgressDeadlineExceeded")
        {
            progressing = previous.Clone();
        }
        else if (countsMoved)
        {
            progressing = Condition(old, "Progressing", "True", "ReplicaSetUpdated", $"ReplicaSet \"{rsName}\" is progressing.", now, progressed: true);
        }
        else if (now - (KubeJson.ParseTime(previous["lastUpdateTime"]) ?? now) > deadline)
        {
            progressing = Condition(old, "Progressing", "False", "ProgressDeadlineExceeded", $"ReplicaSet \"{rsName}\" has timed out progressing.", now, progressed: true);
        }
        else
        {
            progressing = previous.Clone();
        }

        conditions.Add(progressing);
        status["conditions"] = conditions;
        if (!KubeJson.Same(old, status))
        {
            d["status"] = status;
            store.SystemWrite(KubeResources.Deployments, d);
        }
    }

    private static JsonObject Counts(JsonObject status) => new()
    {
        ["replicas"] = status["replicas"]?.DeepClone(),
        ["updatedReplicas"] = status["updatedReplicas"]?.DeepClone(),
        ["readyReplicas"] = status["readyReplicas"]?.DeepClone(),
        ["availableReplicas"] = status["availableReplicas"]?.DeepClone(),
    };

    private static JsonObject? FindCondition(JsonObject? status, string type) =>
        (status?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => c.Str("type") == type);

    /// <summary>A condition keeping lastTransitionTime while the status holds, and lastUpdateTime while nothing moves.</summary>
    private static JsonObject Condition(JsonObject? oldStatus, string type, string status, string reason, string message, DateTimeOffset now, bool progressed)
    {
        var previous = FindCondition(oldStatus, type);
        var sameState = previous is not null && previous.Str("status") == status;
        var sameAll = sameState && previous!.Str("reason") == reason && previous.Str("message") == message;
        var stamp = KubeJson.Time(now);
        return new JsonObject
        {
            ["type"] = type,
            ["status"] = status,
            ["lastUpdateTime"] = sameAll && !progressed ? previous!["lastUpdateTime"]?.DeepClone() : stamp,
            ["lastTransitionTime"] = sameState ? previous!["lastTransitionTime"]?.DeepClone() : stamp,
            ["reason"] = reason,
            ["message"] = message,
        };
    }

    // ---- replica sets ---------------------------------------------------------------------------------------------

    private void ReconcileReplicaSetPods(JsonObject rs, DateTimeOffset now)
    {
        var want = (int)(rs.Long("spec", "replicas") ?? 0);
        var pods = ActivePods(rs);
        var owner = Owner(rs);
        var workload = owner ?? rs.Str("metadata", "name")!;
        if (pods.Count < want)
        {
            var ns = rs.Str("metadata", "namespace")!;
            var d = owner is null ? null : store.Get(KubeResources.Deployments, ns, owner);
            var replicas = (int)(d?.Long("spec", "replicas") ?? want);
            var surge = d is null ? replicas : Math.Max(1, RollingParameters(d, replicas).Surge);
            var oldPodsExist = d is not null && OwnedBy(KubeResources.ReplicaSets, d).Any(o => o.Str("metadata", "uid") != rs.Str("metadata", "uid") && o.Long("spec", "replicas") > 0);
            var steps = oldPodsExist ? Math.Max(1, (int)Math.Ceiling(replicas / (double)surge)) : 1;
            var delay = simulation.RolloutDuration(ns, workload) / steps;
            for (var i = pods.Count; i < want; i++)
            {
                CreatePod(rs, $"{rs.Str("metadata", "name")}-{store.RandomSuffix()}", rs["spec"]!["template"]!.AsObject(), null, workload, delay, now, NodeFor(i));
            }
        }
        else if (pods.Count > want)
        {
            foreach (var pod in pods.OrderBy(p => IsReady(p) ? 1 : 0).ThenByDescending(p => p.Str("metadata", "creationTimestamp")).Take(pods.Count - want))
            {
                Delete(KubeResources.Pods, pod);
            }
        }
    }

    private void WriteReplicaSetStatus(JsonObject rs)
    {
        var pods = ActivePods(rs);
        var ready = pods.Count(IsReady);
        var status = new JsonObject
        {
            ["replicas"] = pods.Count,
            ["fullyLabeledReplicas"] = pods.Count,
            ["readyReplicas"] = ready,
            ["availableReplicas"] = ready,
            ["observedGeneration"] = rs.Long("metadata", "generation"),
        };
        foreach (var k in new[] { "fullyLabeledReplicas", "readyReplicas", "availableReplicas" })
        {
            if (status.Long(k) == 0)
            {
                status.Remove(k);
            }
        }

        if (!KubeJson.Same(rs["status"], status))
        {
            rs["status"] = status;
            store.SystemWrite(KubeResources.ReplicaSets, rs);
        }
    }

    // ---- daemon sets ----------------------------------------------------------------------------------------------

    private void ReconcileDaemonSet(JsonObject ds, DateTimeOffset now)
    {
        var ns = ds.Str("metadata", "namespace")!;
        var name = ds.Str("metadata", "name")!;
        var template = ds["spec"]!["template"]!.AsObject();
        var hash = TemplateHash(template);
        var nodes = store.List(KubeResources.Nodes).Select(n => n.Str("metadata", "name")!).ToList();
        var pods = OwnedBy(KubeResources.Pods, ds);
        var oldPods = pods.Where(p => p.Str("metadata", "labels", RevisionHashLabel) != hash).ToList();
        var delay = simulation.RolloutDuration(ns, name) / (oldPods.Count > 0 || pods.Count > 0 ? Math.Max(1, nodes.Count) : 1);
        foreach (var node in nodes.Where(n => !pods.Any(p => p.Str("spec", "nodeName") == n)))
        {
            var podTemplate = template.Clone();
            podTemplate.Obj("metadata").Obj("labels")[RevisionHashLabel] = hash;
            CreatePod(ds, $"{name}-{store.RandomSuffix()}", podTemplate, null, name, delay, now, node);
        }

        foreach (var stray in pods.Where(p => !nodes.Contains(p.Str("spec", "nodeName") ?? "")))
        {
            Delete(KubeResources.Pods, stray);
        }

        var maxUnavailable = (int)(ds.Long("spec", "updateStrategy", "rollingUpdate", "maxUnavailable") ?? 1);
        var unavailable = OwnedBy(KubeResources.Pods, ds).Count(p => !IsReady(p)) + (nodes.Count - OwnedBy(KubeResources.Pods, ds).Count);
        if (ds.Str("spec", "updateStrategy", "type") != "OnDelete")
        {
            foreach (var old in oldPods.OrderBy(p => IsReady(p) ? 1 : 0).Take(Math.Max(0, maxUnavailable - unavailable) + oldPods.Count(p => !IsReady(p))))
            {
                Delete(KubeResources.Pods, old);
            }
        }
    }

    private void WriteDaemonSetStatus(JsonObject ds)
    {
        var hash = TemplateHash(ds["spec"]!["template"]!.AsObject());
        var nodes = store.Count(KubeResources.Nodes);
        var pods = OwnedBy(KubeResources.Pods, ds);
        var ready = pods.Count(IsReady);
        var status = new JsonObject
        {
            ["currentNumberScheduled"] = pods.Count(p => p.Str("spec", "nodeName") is not null),
            ["numberMisscheduled"] = 0,
            ["desiredNumberScheduled"] = nodes,
            ["numberReady"] = ready,
            ["observedGeneration"] = ds.Long("metadata", "generation"),
            ["updatedNumberScheduled"] = pods.Count(p => p.Str("metadata", "labels", RevisionHashLabel) == hash),
            ["numberAvailable"] = ready,
        };
        if (nodes - ready > 0)
        {
            status["numberUnavailable"] = nodes - ready;
        }

        if (status.Long("numberAvailable") == 0)
        {
            status.Remove("numberAvailable");
        }

        if (!KubeJson.Same(ds["status"], status))
        {
            ds["status"] = status;
            store.SystemWrite(KubeResources.DaemonSets, ds);
        }
    }

    // ---- stateful sets --------------------------------------------------------------------------------------------

    private void ReconcileStatefulSet(JsonObject sts, DateTimeOffset now)
    {
        var ns = sts.Str("metadata", "namespace")!;
        var name = sts.Str("metadata", "name")!;
        var replicas = (int)(sts.Long("spec", "replicas") ?? 1);
        var template = sts["spec"]!["template"]!.AsObject();
        var revision = $"{name}-{TemplateHash(template)}";
        var pods = OwnedBy(KubeResources.Pods, sts).ToDictionary(p => p.Str("metadata", "name")!);
        var updating = pods.Values.Any(p => p.Str("metadata", "labels", RevisionHashLabel) != revision);
        var delay = simulation.RolloutDuration(ns, name) / Math.Max(1, replicas);
        for (var i = 0; i < replicas; i++)
        {
            var podName = $"{name}-{i}";
            if (pods.ContainsKey(podName))
            {
                if (!IsReady(pods[podName]))
                {
                    return;
                }

                continue;
            }

            var podTemplate = template.Clone();
            podTemplate.Obj("metadata").Obj("labels")[RevisionHashLabel] = revision;
            podTemplate.Obj("metadata").Obj("labels")["statefulset.kubernetes.io/pod-name"] = podName;
            CreatePod(sts, podName, podTemplate, podName, name, delay, now, NodeFor(i));
            return;
        }

        foreach (var extra in pods.Values.Where(p => Ordinal(p) >= replicas).OrderByDescending(Ordinal).Take(1))
        {
            Delete(KubeResources.Pods, extra);
            return;
        }

        if (updating && sts.Str("spec", "updateStrategy", "type") != "OnDelete")
        {
            var partition = (int)(sts.Long("spec", "updateStrategy", "rollingUpdate", "partition") ?? 0);
            var next = pods.Values.Where(p => p.Str("metadata", "labels", RevisionHashLabel) != revision && Ordinal(p) >= partition)
                .OrderByDescending(Ordinal).FirstOrDefault();
            if (next is not null)
            {
                Delete(KubeResources.Pods, next);
            }
        }
    }

    private static int Ordinal(JsonObject pod)
    {
        var name = pod.Str("metadata", "name")!;
        return int.Parse(name[(name.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture);
    }

    private void WriteStatefulSetStatus(JsonObject sts)
    {
        var name = sts.Str("metadata", "name")!;
        var replicas = (int)(sts.Long("spec", "replicas") ?? 1);
        var updateRevision = $"{name}-{TemplateHash(sts["spec"]!["template"]!.AsObject())}";
        var pods = OwnedBy(KubeResources.Pods, sts);
        var ready = pods.Count(IsReady);
        var updated = pods.Count(p => p.Str("metadata", "labels", RevisionHashLabel) == updateRevision);
        var currentRevision = sts.Str("status", "currentRevision") ?? updateRevision;
        if (updated == replicas && pods.Count == replicas && ready == replicas)
        {
            currentRevision = updateRevision;
        }

        var current = pods.Count(p => p.Str("metadata", "labels", RevisionHashLabel) == currentRevision);
        var status = new JsonObject
        {
            ["observedGeneration"] = sts.Long("metadata", "generation"),
            ["replicas"] = pods.Count,
            ["readyReplicas"] = ready,
            ["currentReplicas"] = current,
            ["updatedReplicas"] = updated,
            ["currentRevision"] = currentRevision,
            ["updateRevision"] = updateRevision,
            ["collisionCount"] = 0,
            ["availableReplicas"] = ready,
        };
        foreach (var k in new[] { "readyReplicas", "currentReplicas", "updatedReplicas" })
        {
            if (status.Long(k) == 0)
            {
                status.Remove(k);
            }
        }

        if (!KubeJson.Same(sts["status"], status))
        {
            sts["status"] = status;
            store.SystemWrite(KubeResources.StatefulSets, sts);
        }
    }

    // ---- pods and the kubelet -------------------------------------------------------------------------------------

    private void CreatePod(JsonObject owner, string name, JsonObject template, string? hostname, string workload, TimeSpan readyDelay, DateTimeOffset now, string? node)
    {
        var spec = template["spec"]!.DeepClone().AsObject();
        var ns = owner.Str("metadata", "namespace")!;
        var fault = faults.For(ns, workload);
        if (fault?.Failure != PodFailure.Unschedulable && node is not null)
        {
            spec["nodeName"] = node;
        }

        if (hostname is not null)
        {
            spec["hostname"] = hostname;
        }

        spec["restartPolicy"] ??= "Always";
        spec["serviceAccountName"] ??= "default";
        var pod = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["labels"] = template["metadata"]?["labels"]?.DeepClone() ?? new JsonObject(),
                ["ownerReferences"] = new JsonArray(OwnerReference(owner)),
            },
            ["spec"] = spec,
            ["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "BestEffort" },
        };
        if (template["metadata"]?["annotations"] is JsonObject annotations)
        {
            pod["metadata"]!["annotations"] = annotations.DeepClone();
        }

        var created = store.Create(KubeResources.Pods, ns, pod);
        _pods[created.Str("metadata", "uid")!] = new PodSim { CreatedAt = now, ReadyDelay = readyDelay, Workload = workload };
    }

    private string NodeFor(int index)
    {
        var nodes = store.List(KubeResources.Nodes).Select(n => n.Str("metadata", "name")!).ToList();
        return nodes.Count == 0 ? "fake-node-0" : nodes[index % nodes.Count];
    }

    private void RunKubelet(JsonObject pod, DateTimeOffset now)
    {
        if (IsTerminating(pod))
        {
            // Shutting down: the kubelet restarts nothing and the last status stands until the pod is gone.
            return;
        }

        var ns = pod.Str("metadata", "namespace")!;
        var uid = pod.Str("metadata", "uid")!;
        if (!_pods.TryGetValue(uid, out var sim))
        {
            sim = new PodSim
            {
                CreatedAt = KubeJson.ParseTime(pod["metadata"]!["creationTimestamp"]) ?? now,
                ReadyDelay = simulation.DefaultRolloutDuration,
                Workload = pod.Str("metadata", "name")!,
            };
            _pods[uid] = sim;
        }

        var fault = sim.EverReady ? null : faults.For(ns, sim.Workload);
        var containers = (pod["spec"]!["containers"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var faulty = fault?.Container ?? containers.FirstOrDefault()?.Str("name");
        var started = KubeJson.Time(sim.CreatedAt + TimeSpan.FromSeconds(1));
        var status = new JsonObject();
        var scheduled = fault?.Failure != PodFailure.Unschedulable;
        var readyNow = fault is null && now >= sim.CreatedAt + sim.ReadyDelay;
        if (readyNow)
        {
            sim.EverReady = true;
        }

        var elapsed = now - sim.CreatedAt;
        if (fault?.Failure is PodFailure.CrashLoopBackOff or PodFailure.OomKilled)
        {
            sim.Restarts = 1 + (int)(elapsed.TotalSeconds / 20);
        }

        var running = scheduled && (readyNow || fault?.Failure is PodFailure.CrashLoopBackOff or PodFailure.OomKilled or PodFailure.ReadinessFailure);
        status["phase"] = running ? "Running" : "Pending";
        var conditions = new JsonArray
        {
            PodCondition("PodScheduled", scheduled, scheduled ? null : "Unschedulable", scheduled ? null : fault!.Message, sim.CreatedAt),
        };
        if (scheduled)
        {
            conditions.Add(PodCondition("Initialized", true, null, null, sim.CreatedAt));
            var notReadyMessage = $"containers with unready status: [{string.Join(" ", readyNow ? [] : fault is null ? containers.Select(c => c.Str("name")) : [faulty])}]";
            conditions.Add(PodCondition("ContainersReady", readyNow, readyNow ? null : "ContainersNotReady", readyNow ? null : notReadyMessage, readyNow ? sim.CreatedAt + sim.ReadyDelay : sim.CreatedAt));
            conditions.Add(PodCondition("Ready", readyNow, readyNow ? null : "ContainersNotReady", readyNow ? null : notReadyMessage, readyNow ? sim.CreatedAt + sim.ReadyDelay : sim.CreatedAt));
            status["hostIP"] = "10.0.0.10";
            status["podIP"] = $"10.244.0.{(uint)uid.GetHashCode() % 250 + 2}";
            status["startTime"] = KubeJson.Time(sim.CreatedAt);
            var statuses = new JsonArray();
            foreach (var c in containers)
            {
                var cname = c.Str("name")!;
                var image = c.Str("image")!;
                var containerStatus = new JsonObject
                {
                    ["name"] = cname,
                    ["image"] = image,
                    ["imageID"] = ImageId(image),
                    ["ready"] = readyNow,
                    ["restartCount"] = 0,
                    ["started"] = false,
                };
                if (fault is not null && cname == faulty)
                {
                    FaultedContainer(containerStatus, fault, pod, image, elapsed, sim, started);
                }
                else if (readyNow || fault is not null)
                {
                    containerStatus["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = started } };
                    containerStatus["started"] = true;
                    containerStatus["containerID"] = $"containerd://{Hex(uid + cname)}";
                }
                else
                {
                    containerStatus["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } };
                }

                statuses.Add(containerStatus);
            }

            status["containerStatuses"] = statuses;
        }
        else
        {
            Event(pod, "Warning", "FailedScheduling", fault!.Message, "default-scheduler", once: true);
        }

        status["conditions"] = conditions;
        status["qosClass"] = "BestEffort";
        // The scheduler binds a pod created without a node (a bare pod) to one.
        var nodes = scheduled && pod.Str("spec", "nodeName") is null ? store.List(KubeResources.Nodes) : [];
        var bind = nodes.Count > 0;
        if (bind)
        {
            pod.Obj("spec")["nodeName"] = nodes[0].Str("metadata", "name");
        }

        if (bind || !KubeJson.Same(pod["status"], status))
        {
            pod["status"] = status;
            store.SystemWrite(KubeResources.Pods, pod);
        }
    }

    private void FaultedContainer(JsonObject cs, PodFault fault, JsonObject pod, string image, TimeSpan elapsed, PodSim sim, string started)
    {
        var podName = pod.Str("metadata", "name");
        var ns = pod.Str("metadata", "namespace");
        var uid = pod.Str("metadata", "uid");
        var cname = cs.Str("name");
        switch (fault.Failure)
        {
            case PodFailure.ImagePull:
                var pullError = $"failed to pull and unpack image \"{image}\": {fault.Message}";
                var backOff = elapsed >= TimeSpan.FromSeconds(2);
                cs["state"] = new JsonObject
                {
                    ["waiting"] = backOff
                        ? new JsonObject { ["reason"] = "ImagePullBackOff", ["message"] = $"Back-off pulling image \"{image}\": ErrImagePull: {pullError}" }
                        : new JsonObject { ["reason"] = "ErrImagePull", ["message"] = pullError },
                };
                Event(pod, "Normal", "Pulling", $"Pulling image \"{image}\"", "kubelet", once: true);
                Event(pod, "Warning", "Failed", $"Failed to pull image \"{image}\": {pullError}", "kubelet", once: true);
                Event(pod, "Warning", "Failed", "Error: ErrImagePull", "kubelet", once: true);
                if (backOff)
                {
                    Event(pod, "Normal", "BackOff", $"Back-off pulling image \"{image}\"", "kubelet", once: true);
                    Event(pod, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet", once: true);
                }

                break;
            case PodFailure.CreateContainerConfigError:
                cs["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "CreateContainerConfigError", ["message"] = fault.Message } };
                Event(pod, "Warning", "Failed", $"Error: {fault.Message}", "kubelet", once: true);
                break;
            case PodFailure.CrashLoopBackOff or PodFailure.OomKilled:
                var oom = fault.Failure == PodFailure.OomKilled;
                cs["restartCount"] = sim.Restarts;
                cs["state"] = new JsonObject
                {
                    ["waiting"] = new JsonObject
                    {
                        ["reason"] = "CrashLoopBackOff",
                        ["message"] = $"back-off 10s restarting failed container={cname} pod={podName}_{ns}({uid})",
                    },
                };
                cs["lastState"] = new JsonObject
                {
                    ["terminated"] = new JsonObject
                    {
                        ["exitCode"] = fault.ExitCode,
                        ["reason"] = oom ? "OOMKilled" : "Error",
                        ["startedAt"] = started,
                        ["finishedAt"] = started,
                        ["containerID"] = $"containerd://{Hex(uid + cname + "previous")}",
                    },
                };
                cs["containerID"] = $"containerd://{Hex(uid + cname + "previous")}";
                Event(pod, "Warning", "BackOff", $"Back-off restarting failed container {cname} in pod {podName}_{ns}({uid})", "kubelet", once: true);
                break;
            case PodFailure.ReadinessFailure:
                cs["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = started } };
                cs["started"] = true;
                cs["containerID"] = $"containerd://{Hex(uid + cname)}";
                Event(pod, "Warning", "Unhealthy", fault.Message, "kubelet", once: true);
                break;
        }
    }

    private static JsonObject PodCondition(string type, bool ok, string? reason, string? message, DateTimeOffset at)
    {
        var c = new JsonObject
        {
            ["type"] = type,
            ["status"] = ok ? "True" : "False",
            ["lastProbeTime"] = null,
            ["lastTransitionTime"] = KubeJson.Time(at),
        };
        if (reason is not null)
        {
            c["reason"] = reason;
        }

        if (message is not null)
        {
            c["message"] = message;
        }

        return c;
    }

    private static string ImageId(string image)
    {
        var at = image.IndexOf("@sha256:", StringComparison.Ordinal);
        var repo = at >= 0 ? image[..at] : image.Split(':')[0];
        var digest = at >= 0 ? image[(at + 1)..] : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(image)));
        return $"{repo}@{digest}";
    }

    private static string Hex(string seed) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed)));

    internal static bool IsReady(JsonObject pod) =>
        (pod["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().Any(c => c.Str("type") == "Ready" && c.Str("status") == "True") == true;

    // ---- events ---------------------------------------------------------------------------------------------------

    private void Event(JsonObject about, string type, string reason, string message, string component, bool once)
    {
        var uid = about.Str("metadata", "uid")!;
        if (once && !_eventsSent.Add($"{uid}\n{reason}\n{message}"))
        {
            return;
        }

        var ns = about.Str("metadata", "namespace") ?? "default";
        var stamp = KubeJson.Time(clock.Now);
        var e = new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = $"{about.Str("metadata", "name")}.{++_events:x8}" },
            ["involvedObject"] = new JsonObject
            {
                ["kind"] = about.Str("kind"),
                ["namespace"] = ns,
                ["name"] = about.Str("metadata", "name"),
                ["uid"] = uid,
                ["apiVersion"] = about.Str("apiVersion"),
                ["resourceVersion"] = about.Str("metadata", "resourceVersion"),
            },
            ["reason"] = reason,
            ["message"] = message,
            ["source"] = new JsonObject { ["component"] = component },
            ["firstTimestamp"] = stamp,
            ["lastTimestamp"] = stamp,
            ["count"] = 1,
            ["type"] = type,
            ["reportingComponent"] = component,
            ["reportingInstance"] = "",
        };
        store.Create(KubeResources.Events, ns, e);
    }

    // ---- ownership helpers ----------------------------------------------------------------------------------------

    private List<JsonObject> OwnedBy(KubeResource r, JsonObject owner)
    {
        var uid = owner.Str("metadata", "uid");
        return store.List(r, owner.Str("metadata", "namespace"),
            o => (o["metadata"]?["ownerReferences"] as JsonArray)?.Any(ow => ow.Str("uid") == uid) == true).ToList();
    }

    private static string? Owner(JsonObject o) =>
        (o["metadata"]?["ownerReferences"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(ow => ow.Bool("controller") == true)?.Str("name");

    private static JsonObject OwnerReference(JsonObject owner) => new()
    {
        ["apiVersion"] = owner.Str("apiVersion"),
        ["kind"] = owner.Str("kind"),
        ["name"] = owner.Str("metadata", "name"),
        ["uid"] = owner.Str("metadata", "uid"),
        ["controller"] = true,
        ["blockOwnerDeletion"] = true,
    };

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"\"{kv.Key}\":{Canonical(kv.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    /// <summary>The real controller's hash: FNV-1a over the template, printed in decimal, then safe-encoded.</summary>
    internal static string TemplateHash(JsonObject template)
    {
        var bytes = Encoding.UTF8.GetBytes(Canonical(template));
        var hash = 2166136261u;
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= 16777619u;
        }

        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Concat(hash.ToString(CultureInfo.InvariantCulture).Select(c => alphabet[c % alphabet.Length]));
    }
}
