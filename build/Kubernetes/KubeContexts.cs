using k8s;
using k8s.KubeConfigModels;
using Tesslate.Build.Engine;

namespace Tesslate.Build.Kubernetes;

/// <summary>
/// Reads a context from the user's kubeconfig (KUBECONFIG or ~/.kube/config) into an in-memory configuration.
/// Never writes the file and never switches its current context: the chosen context is used by this run only.
/// </summary>
public static class KubeContexts
{
    public static IReadOnlyList<string> DefaultPaths()
    {
        var variable = Environment.GetEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrWhiteSpace(variable))
            return [.. variable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)];
        return [Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config")];
    }

    /// <param name="context">The context to use; null means the kubeconfig's current context.</param>
    /// <param name="chooseContext">How the caller's user names a context (e.g. a flag), for the fixes.</param>
    public static KubernetesClientConfiguration Load(string? context, IReadOnlyList<string>? kubeconfigPaths, string chooseContext)
    {
        var paths = (kubeconfigPaths ?? DefaultPaths()).Where(File.Exists).ToList();
        if (paths.Count == 0)
            throw new PrerequisiteMissingException(
                $"No kubeconfig found (looked at {string.Join(", ", kubeconfigPaths ?? DefaultPaths())}).",
                $"Create a cluster context (kind, minikube, Docker Desktop) or set KUBECONFIG, then choose it with {chooseContext}.");
        K8SConfiguration config;
        try
        {
            config = KubernetesClientConfiguration.LoadKubeConfig(new FileInfo(paths[0]));
            // KUBECONFIG with several files: the first file that defines a name wins, as in kubectl.
            foreach (var extra in paths.Skip(1).Select(p => KubernetesClientConfiguration.LoadKubeConfig(new FileInfo(p))))
            {
                config.Contexts = [.. config.Contexts ?? [], .. (extra.Contexts ?? []).Where(c => config.Contexts?.All(x => x.Name != c.Name) ?? true)];
                config.Clusters = [.. config.Clusters ?? [], .. (extra.Clusters ?? []).Where(c => config.Clusters?.All(x => x.Name != c.Name) ?? true)];
                config.Users = [.. config.Users ?? [], .. (extra.Users ?? []).Where(c => config.Users?.All(x => x.Name != c.Name) ?? true)];
                config.CurrentContext ??= extra.CurrentContext;
            }
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or YamlDotNet.Core.YamlException)
        {
            throw new UsageException($"The kubeconfig {string.Join(", ", paths)} cannot be read: {e.Message}", "Fix the file (kubectl config view shows what kubectl reads).");
        }
        var names = (config.Contexts ?? []).Select(c => c.Name).ToList();
        var chosen = context ?? config.CurrentContext;
        if (string.IsNullOrEmpty(chosen))
            throw new UsageException($"The kubeconfig has no current context; contexts: {List(names)}.", $"Choose a context with {chooseContext}.");
        if (!names.Contains(chosen, StringComparer.Ordinal))
            throw new UsageException($"Kube context '{chosen}' does not exist in {string.Join(", ", paths)}; contexts that do: {List(names)}.",
                $"Choose one of those names with {chooseContext} (kubectl config get-contexts lists them).");
        try
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigObject(config, currentContext: chosen);
        }
        catch (k8s.Exceptions.KubeConfigException e)
        {
            throw new UsageException($"Kube context '{chosen}' cannot be used: {e.Message}", "Fix the context's cluster or user entry in the kubeconfig.");
        }
    }

    private static string List(IReadOnlyList<string> names) => names.Count == 0 ? "(none)" : string.Join(", ", names);
}
