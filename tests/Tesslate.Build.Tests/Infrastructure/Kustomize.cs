using System.Collections.Concurrent;
using Serilog;
using Tesslate.Build.Engine.Processes;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>The output of the real <c>kubectl kustomize</c> for one directory.</summary>
internal sealed record Rendering(string Directory, int ExitCode, string Yaml, string Errors)
{
    private (IReadOnlyList<object> Objects, IReadOnlyList<ManifestProblem> Problems)? _loaded;

    /// <summary>The rendered objects as KubernetesClient typed models (custom resources as YAML mappings).</summary>
    public IReadOnlyList<object> Objects => (_loaded ??= TypedManifest.Load(Yaml)).Objects;

    /// <summary>Objects that did not deserialize strictly into their typed model.</summary>
    public IReadOnlyList<ManifestProblem> Problems => (_loaded ??= TypedManifest.Load(Yaml)).Problems;

    public IEnumerable<T> OfType<T>() => Objects.OfType<T>();
}

/// <summary>Renders overlays with the kubectl on PATH, once per directory per test run.</summary>
internal static class Kustomize
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<Rendering>>> Cache = new(StringComparer.Ordinal);

    private static readonly ProcessRunner Runner = new(new LoggerConfiguration().CreateLogger());

    public static Task<Rendering> RenderOverlayAsync(string relativePath) =>
        Cache.GetOrAdd(relativePath, path => new Lazy<Task<Rendering>>(() => RenderAsync(InfrastructureLayout.Full(path), CancellationToken.None))).Value;

    public static async Task<Rendering> RenderAsync(string directory, CancellationToken cancellationToken)
    {
        var command = new ToolCommand("kubectl", ["kustomize", directory])
        {
            CaptureOutput = true,
            Quiet = true,
            IsReadOnly = true,
            Timeout = TimeSpan.FromMinutes(2),
            AllowedExitCodes = [0, 1],
        };
        var result = await Runner.RunAsync(command, cancellationToken);
        return new Rendering(directory, result.ExitCode, result.StandardOutput, result.StandardError);
    }

    public static async Task<Rendering> RenderCleanAsync(string relativePath)
    {
        var rendering = await RenderOverlayAsync(relativePath);
        Assert.True(rendering.ExitCode == 0 && rendering.Errors.Length == 0,
            $"kubectl kustomize {relativePath} failed (exit {rendering.ExitCode}): {rendering.Errors}");
        return rendering;
    }
}
