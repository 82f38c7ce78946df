using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Serilog;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary>Who holds (or asks for) the deploy lock: a person or CI actor, from where (host or CI run URL), for which run.</summary>
public sealed record LockHolder(string Who, string Where, string RunId)
{
    /// <summary>The Lease's holderIdentity: unique per run, readable in <c>kubectl get lease</c>.</summary>
    public string Identity => $"{Who}@{Where}#{RunId}";

    public override string ToString() => $"{Who} from {Where} (run {RunId})";

    /// <summary>
    /// Who and where from the process environment: in GitHub Actions the actor and the run's URL; elsewhere
    /// user@host and the host name.
    /// </summary>
    public static LockHolder FromEnvironment(IReadOnlyDictionary<string, string?> environment, string runId)
    {
        string? Get(string name) => environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;
        if (Get("GITHUB_ACTIONS") == "true" && Get("GITHUB_RUN_ID") is { } run)
        {
            var url = $"{Get("GITHUB_SERVER_URL") ?? "https://github.com"}/{Get("GITHUB_REPOSITORY") ?? "?"}/actions/runs/{run}"
                + (Get("GITHUB_RUN_ATTEMPT") is { } attempt && attempt != "1" ? $"/attempts/{attempt}" : "");
            return new LockHolder(Get("GITHUB_ACTOR") ?? "github-actions", url, runId);
        }
        var host = Environment.MachineName;
        var user = Get("USER") ?? Get("USERNAME") ?? Environment.UserName;
        return new LockHolder($"{user}@{host}", host, runId);
    }
}

/// <summary>Where the lock lives and how long a silent holder keeps it.</summary>
public sealed record DeployLockOptions(string Namespace, string Name)
{
    /// <summary>A holder that has not renewed for this long is gone (crashed laptop, killed runner) and can be taken over.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How often a held lock is renewed; well inside <see cref="LeaseDuration"/>.</summary>
    public TimeSpan RenewInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Annotation prefix for who/where/run id on the Lease.</summary>
    public string AnnotationPrefix { get; init; } = "deploy-lock";

    /// <summary>How long releasing may take at the end of a run (it runs after Ctrl-C, with its own deadline).</summary>
    public TimeSpan ReleaseTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How the caller's user takes a live lock over (the pipeline: <c>--break-lock</c>), for the messages.</summary>
    public string BreakLockSetting { get; init; } = "breaking the lock";

    /// <summary>How the caller's user looks at the environment after a lost lock (the pipeline: its Status target); null: not offered.</summary>
    public string? CheckEnvironment { get; init; }

    public string Display => $"Lease {Namespace}/{Name}";
}

public enum LockStatus
{
    /// <summary>No lease, or a lease nobody holds.</summary>
    Free,

    /// <summary>Held by this run already.</summary>
    HeldByUs,

    /// <summary>Held by another run that renews it.</summary>
    Held,

    /// <summary>Held by another run that stopped renewing past the lease duration.</summary>
    Expired,

    /// <summary>The namespace does not exist yet (first provisioning): there is nothing to lock.</summary>
    NoNamespace,
}

/// <summary>What a Lease says, read into plain values.</summary>
public sealed record LeaseObservation(LockHolder? Holder, string? HolderIdentity, DateTimeOffset? AcquiredAt, DateTimeOffset? RenewedAt, TimeSpan Duration);

/// <summary>The lock's state as the dry run and error messages show it.</summary>
public sealed record DeployLockState(LockStatus Status, LeaseObservation? Lease, string Description);

/// <summary>Pure judgements about a Lease.</summary>
public static class LeaseJudge
{
    public static LockStatus Judge(LeaseObservation? lease, string ourIdentity, DateTimeOffset now)
    {
        if (lease is null || string.IsNullOrEmpty(lease.HolderIdentity))
            return LockStatus.Free;
        if (lease.HolderIdentity == ourIdentity)
            return LockStatus.HeldByUs;
        var last = lease.RenewedAt ?? lease.AcquiredAt;
        return last is null || last.Value + lease.Duration < now ? LockStatus.Expired : LockStatus.Held;
    }

    public static string Describe(LockStatus status, LeaseObservation? lease, string display, DateTimeOffset now) => status switch
    {
        LockStatus.Free => $"{display} is free",
        LockStatus.HeldByUs => $"{display} is held by this run",
        LockStatus.Held => $"{display} is held by {HolderText(lease)} since {Since(lease?.AcquiredAt, now)}, last renewed {Since(lease?.RenewedAt, now)}",
        LockStatus.Expired => $"{display} was held by {HolderText(lease)} since {Since(lease?.AcquiredAt, now)} but not renewed for longer than {Durations.Format(lease?.Duration ?? TimeSpan.Zero)} (last renewed {Since(lease?.RenewedAt, now)}): it can be taken over",
        LockStatus.NoNamespace => $"{display} cannot exist yet: the namespace does not exist (first provisioning)",
        _ => display,
    };

    private static string HolderText(LeaseObservation? lease) => lease?.Holder?.ToString() ?? lease?.HolderIdentity ?? "(unknown)";

    private static string Since(DateTimeOffset? at, DateTimeOffset now) => at is null
        ? "(unknown)"
        : $"{at.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC ({Durations.Format(now - at.Value < TimeSpan.Zero ? TimeSpan.Zero : now - at.Value)} ago)";
}

/// <summary>
/// A deploy lock on a <c>coordination.k8s.io/v1</c> Lease: one run at a time per cluster, whether it runs on a laptop
/// or in CI. Every write carries the resourceVersion it was decided on; a 409 means someone else wrote in between,
/// so the lease is read again and the decision made again.
/// </summary>
public sealed class DeployLock(IKubernetes client, DeployLockOptions options, ILogger logger, TimeProvider? time = null)
{
    private const int MaxAttempts = 5;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public DeployLockOptions Options => options;

    /// <summary>The lock's state, read only (for --dry-run and messages).</summary>
    public async Task<DeployLockState> InspectAsync(LockHolder? us, CancellationToken cancellationToken)
    {
        var lease = await ReadAsync(cancellationToken);
        var now = _time.GetUtcNow();
        LockStatus status;
        if (lease is null)
            status = await NamespaceExistsAsync(cancellationToken) ? LockStatus.Free : LockStatus.NoNamespace;
        else
            status = LeaseJudge.Judge(Observe(lease), us?.Identity ?? "", now);
        var observation = lease is null ? null : Observe(lease);
        return new DeployLockState(status, observation, LeaseJudge.Describe(status, observation, options.Display, now));
    }

    /// <summary>
    /// Takes the lock for <paramref name="holder"/> before the run's first mutation; the result renews it in the
    /// background and releases it when disposed (register it with the run's cleanup so Ctrl-C releases it too).
    /// </summary>
    /// <param name="breakLock"><c>--break-lock</c>: take the lock from a live holder (with a warning).</param>
    public async Task<HeldDeployLock> AcquireAsync(LockHolder holder, bool breakLock, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var lease = await ReadAsync(cancellationToken);
            var now = _time.GetUtcNow();
            try
            {
                if (lease is null)
                {
                    if (breakLock)
                        WarnNothingToBreak();
                    var created = await CreateAsync(holder, now, cancellationToken);
                    if (created is null)
                    {
                        logger.Warning("{Lock}: the namespace {Namespace} does not exist yet (first provisioning); no deploy lock is taken, so Terraform's own state lock is the only guard against a concurrent run",
                            options.Display, options.Namespace);
                        return HeldDeployLock.Unguarded(options);
                    }
                    logger.Information("{Lock} acquired by {Holder}", options.Display, holder);
                    return Start(holder, created);
                }

                var observed = Observe(lease);
                var status = LeaseJudge.Judge(observed, holder.Identity, now);
                var description = LeaseJudge.Describe(status, observed, options.Display, now);
                switch (status)
                {
                    case LockStatus.Free when breakLock:
                        WarnNothingToBreak();
                        break;
                    case LockStatus.Held when !breakLock:
                        throw new BuildFailure(
                            $"Another deploy is running: {description}. Nothing was changed.",
                            $"Wait for it to finish (kubectl get lease {options.Name} -n {options.Namespace} shows the holder). If that run is gone, take the lock over with {options.BreakLockSetting}.");
                    case LockStatus.Held:
                        logger.Warning("{BreakLock:l}: {Description}; taking the lock over", options.BreakLockSetting, description);
                        break;
                    case LockStatus.Expired:
                        logger.Warning("{Description}; taking it over", description);
                        break;
                }
                var updated = await TakeAsync(lease, holder, now, countTransition: status is LockStatus.Held or LockStatus.Expired, cancellationToken);
                logger.Information("{Lock} acquired by {Holder}", options.Display, holder);
                return Start(holder, updated);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < MaxAttempts)
            {
                logger.Debug("{Lock} changed while being taken (attempt {Attempt}); reading it again", options.Display, attempt);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                throw new BuildFailure($"{options.Display} kept changing while this run tried to take it ({MaxAttempts} attempts).", "Another run is taking the lock at the same time; wait for it and try again.");
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
            {
                throw new BuildFailure($"Not allowed to take the deploy lock {options.Display}: {e.Response.Content}",
                    $"The role needs get, create and update on leases.coordination.k8s.io in namespace {options.Namespace}.");
            }
        }
    }

    // A free lock is what the user wanted anyway: taking it normally is safe, so this is not worth failing a run for.
    private void WarnNothingToBreak() =>
        logger.Warning("{BreakLock:l} was asked for, but {Lock} is free: there is no lock to break; taking it normally", options.BreakLockSetting, options.Display);

    private HeldDeployLock Start(LockHolder holder, V1Lease lease) =>
        new(this, holder, lease, logger, _time);

    internal async Task<V1Lease?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await client.CoordinationV1.ReadNamespacedLeaseAsync(options.Name, options.Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            throw new PrerequisiteMissingException($"Not allowed to read the deploy lock {options.Display}: {Secrets.Redact(e.Response.Content ?? "")}",
                $"The role needs get, create and update on leases.coordination.k8s.io in namespace {options.Namespace}.");
        }
    }

    private async Task<bool> NamespaceExistsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await client.CoreV1.ReadNamespaceAsync(options.Namespace, cancellationToken: cancellationToken);
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            // A role that may not read namespaces: assume it exists, the lease create will tell.
            return true;
        }
    }

    /// <summary>Creates the lease held by us; null when the namespace does not exist (a create can only 404 for that).</summary>
    private async Task<V1Lease?> CreateAsync(LockHolder holder, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lease = new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = options.Name, NamespaceProperty = options.Namespace },
            Spec = new V1LeaseSpec(),
        };
        Hold(lease, holder, now, acquired: true);
        lease.Spec.LeaseTransitions = 0;
        try
        {
            return await client.CoordinationV1.CreateNamespacedLeaseAsync(lease, options.Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<V1Lease> TakeAsync(V1Lease lease, LockHolder holder, DateTimeOffset now, bool countTransition, CancellationToken cancellationToken)
    {
        var same = lease.Spec?.HolderIdentity == holder.Identity;
        lease.Spec ??= new V1LeaseSpec();
        Hold(lease, holder, now, acquired: !same);
        if (countTransition)
            lease.Spec.LeaseTransitions = (lease.Spec.LeaseTransitions ?? 0) + 1;
        return await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, options.Name, options.Namespace, cancellationToken: cancellationToken);
    }

    private void Hold(V1Lease lease, LockHolder holder, DateTimeOffset now, bool acquired)
    {
        lease.Spec.HolderIdentity = holder.Identity;
        lease.Spec.LeaseDurationSeconds = (int)Math.Ceiling(options.LeaseDuration.TotalSeconds);
        if (acquired)
            lease.Spec.AcquireTime = now.UtcDateTime;
        lease.Spec.RenewTime = now.UtcDateTime;
        lease.Metadata.Annotations ??= new Dictionary<string, string>();
        lease.Metadata.Annotations[$"{options.AnnotationPrefix}/who"] = holder.Who;
        lease.Metadata.Annotations[$"{options.AnnotationPrefix}/where"] = holder.Where;
        lease.Metadata.Annotations[$"{options.AnnotationPrefix}/run-id"] = holder.RunId;
    }

    internal LeaseObservation Observe(V1Lease lease)
    {
        var annotations = lease.Metadata?.Annotations ?? new Dictionary<string, string>();
        LockHolder? holder = null;
        var identity = lease.Spec?.HolderIdentity;
        if (!string.IsNullOrEmpty(identity))
            holder = annotations.TryGetValue($"{options.AnnotationPrefix}/who", out var who)
                && annotations.TryGetValue($"{options.AnnotationPrefix}/run-id", out var run)
                && identity.EndsWith("#" + run, StringComparison.Ordinal)
                ? new LockHolder(who, (annotations.TryGetValue($"{options.AnnotationPrefix}/where", out var where) ? where : "?"), run)
                : null;
        return new LeaseObservation(holder, identity, ToOffset(lease.Spec?.AcquireTime), ToOffset(lease.Spec?.RenewTime),
            TimeSpan.FromSeconds(lease.Spec?.LeaseDurationSeconds ?? (int)options.LeaseDuration.TotalSeconds));
    }

    private static DateTimeOffset? ToOffset(DateTime? at) =>
        at is null ? null : new DateTimeOffset(DateTime.SpecifyKind(at.Value, DateTimeKind.Utc));

    /// <summary>Renews the lease if we still hold it; otherwise says who holds it now (never writes it then).</summary>
    internal async Task<string?> RenewAsync(LockHolder holder, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var lease = await ReadAsync(cancellationToken);
            if (lease?.Spec?.HolderIdentity != holder.Identity)
            {
                var now = _time.GetUtcNow();
                var observed = lease is null ? null : Observe(lease);
                return LeaseJudge.Describe(LeaseJudge.Judge(observed, holder.Identity, now), observed, options.Display, now);
            }
            lease.Spec.RenewTime = _time.GetUtcNow().UtcDateTime;
            try
            {
                await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, options.Name, options.Namespace, cancellationToken: cancellationToken);
                return null;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
            }
        }
        return null;
    }

    /// <summary>Clears the holder if it is still us (the lease object stays, with its transition count).</summary>
    internal async Task<bool> ReleaseAsync(LockHolder holder, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var lease = await ReadAsync(cancellationToken);
            if (lease?.Spec?.HolderIdentity != holder.Identity)
                return false;
            lease.Spec.HolderIdentity = null;
            lease.Spec.RenewTime = _time.GetUtcNow().UtcDateTime;
            foreach (var key in new[] { "who", "where", "run-id" })
                lease.Metadata.Annotations?.Remove($"{options.AnnotationPrefix}/{key}");
            try
            {
                await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, options.Name, options.Namespace, cancellationToken: cancellationToken);
                return true;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
            }
        }
        return false;
    }
}

/// <summary>
/// The deploy lock while this run holds it: renewed in the background, released once on dispose (end of run,
/// failure, Ctrl-C). Register it with the engine's RunCleanup right after acquiring.
/// </summary>
public sealed class HeldDeployLock : IAsyncDisposable
{
    private readonly DeployLock? _lock;
    private readonly ILogger? _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewing = Task.CompletedTask;
    private int _released;

    internal HeldDeployLock(DeployLock deployLock, LockHolder holder, V1Lease lease, ILogger logger, TimeProvider time)
    {
        _lock = deployLock;
        _logger = logger;
        Holder = holder;
        Options = deployLock.Options;
        AcquiredAt = lease.Spec?.AcquireTime is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : time.GetUtcNow();
        _renewing = RenewLoopAsync(time, _stop.Token);
    }

    private HeldDeployLock(DeployLockOptions options)
    {
        Options = options;
        _released = 1;
    }

    internal static HeldDeployLock Unguarded(DeployLockOptions options) => new(options);

    public DeployLockOptions Options { get; }

    public LockHolder? Holder { get; }

    public DateTimeOffset? AcquiredAt { get; }

    /// <summary>False when the namespace did not exist and no lock was taken (first provisioning).</summary>
    public bool IsGuarded => _lock is not null;

    /// <summary>Someone took the lock from this run (broke it elsewhere); what runs after must stop.</summary>
    public bool IsLost => LostTo is not null;

    /// <summary>Once lost: the lease as this run found it ("… is held by bob from ci (run 42) since …").</summary>
    public string? LostTo { get; private set; }

    private async Task RenewLoopAsync(TimeProvider time, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_lock!.Options.RenewInterval, time, cancellationToken);
                if (await _lock.RenewAsync(Holder!, cancellationToken) is { } holderNow)
                {
                    LostTo = holderNow;
                    _logger!.Error("{Lock} was taken from this run ({HolderNow}); it changes nothing more", _lock.Options.Display, holderNow);
                    return;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A missed renewal is not fatal while the lease duration lasts; the next one may succeed.
                _logger!.Warning("{Lock}: renewal failed: {Error}", _lock!.Options.Display, Secrets.Redact(e.Message));
            }
        }
    }

    /// <summary>Throws when the lock was taken away, so a caller can check before a change.</summary>
    public void ThrowIfLost()
    {
        if (LostTo is { } holderNow)
            throw new BuildFailure($"This run lost the deploy lock: {holderNow}. It stopped before its next change; what it changed before is listed above.",
                $"Let that run finish, then check the environment{(Options.CheckEnvironment is { } check ? $" ({check})" : "")} and deploy again. It was taken with {Options.BreakLockSetting}, or after this run missed renewals for {Durations.Format(Options.LeaseDuration)} (kubectl get lease {Options.Name} -n {Options.Namespace} -o yaml).");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
            return;
        await _stop.CancelAsync();
        await _renewing;
        _stop.Dispose();
        // Runs after Ctrl-C too: its own deadline, never the run's cancelled token.
        using var timeout = new CancellationTokenSource(Options.ReleaseTimeout);
        try
        {
            if (await _lock!.ReleaseAsync(Holder!, timeout.Token))
                _logger!.Information("{Lock} released", Options.Display);
            else
                _logger!.Warning("{Lock} was no longer held by this run; nothing to release", Options.Display);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or OperationCanceledException or IOException)
        {
            _logger!.Warning("{Lock} could not be released ({Error}); it expires by itself after {Duration}",
                Options.Display, Secrets.Redact(e.Message), Durations.Format(Options.LeaseDuration));
        }
    }
}
