using Tesslate.Build.Kubernetes;
using Xunit;

namespace Tesslate.Build.Tests.Infrastructure;

/// <summary>Every overlay renders with the real kubectl kustomize, cleanly, into strictly typed objects.</summary>
public sealed class OverlayRenderingTests
{
    [Theory]
    [MemberData(nameof(InfrastructureLayout.AllOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Overlay_renders_with_kubectl_kustomize_without_errors_or_warnings(string overlay)
    {
        var rendering = await Kustomize.RenderOverlayAsync(overlay);

        Assert.True(rendering.ExitCode == 0, $"kubectl kustomize {overlay} exited {rendering.ExitCode}: {rendering.Errors}");
        Assert.True(rendering.Errors.Length == 0, $"kubectl kustomize {overlay} wrote to stderr (a warning): {rendering.Errors}");
        Assert.NotEmpty(rendering.Objects);
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.AllOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public async Task Rendered_objects_deserialize_into_typed_models_without_unknown_fields(string overlay)
    {
        var rendering = await Kustomize.RenderCleanAsync(overlay);

        Assert.True(rendering.Problems.Count == 0, string.Join(Environment.NewLine, rendering.Problems));
        Assert.DoesNotContain(rendering.Objects, o => o is IDictionary<object, object>);
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.AllOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public void Overlay_references_only_files_that_exist(string overlay)
    {
        var findings = OverlayLint.CheckReferences(InfrastructureLayout.Full(overlay));

        Assert.True(findings.Count == 0, string.Join(Environment.NewLine, findings));
    }

    [Theory]
    [MemberData(nameof(InfrastructureLayout.DeployableOverlayPaths), MemberType = typeof(InfrastructureLayout))]
    public void Overlay_images_block_names_every_catalog_image_with_the_environment_tag(string overlay)
    {
        var spec = InfrastructureLayout.Overlay(overlay);

        var findings = OverlayLint.CheckImages(InfrastructureLayout.Full(overlay),
            InfrastructureLayout.Catalog.Select(image => image.Repository), spec.EnvironmentTag);

        Assert.True(findings.Count == 0, string.Join(Environment.NewLine, findings));
    }

    [Fact]
    public async Task A_kustomization_naming_a_missing_file_is_reported_with_the_file_and_the_entry()
    {
        using var tree = new TemporaryTree();
        tree.Write("base/kustomization.yaml", "resources:\n  - deployment.yaml\n  - service.yaml\n");
        tree.Write("base/deployment.yaml", MinimalDeployment("app", "tesslate-backend"));
        tree.Write("overlay/kustomization.yaml", "resources:\n  - ../base\n");

        var findings = OverlayLint.CheckReferences(tree.Path("overlay"));

        var finding = Assert.Single(findings);
        Assert.Equal(tree.Path("base/kustomization.yaml"), finding.File);
        Assert.Contains("'service.yaml'", finding.Problem, StringComparison.Ordinal);
        // The real kustomize fails on it too; the lint names the file that has the bad entry.
        var rendering = await Kustomize.RenderAsync(tree.Path("overlay"), TestContext.Current.CancellationToken);
        Assert.NotEqual(0, rendering.ExitCode);
    }

    [Fact]
    public void A_catalog_image_missing_from_an_overlays_images_block_is_reported_with_the_file_and_the_image()
    {
        using var tree = new TemporaryTree();
        tree.Write("overlay/kustomization.yaml",
            "images:\n  - name: tesslate-backend\n    newName: r.example/tesslate-backend\n    newTag: beta\n" +
            "  - name: tesslate-frontend\n    newName: r.example/tesslate-frontend\n    newTag: latest\n");

        var findings = OverlayLint.CheckImages(tree.Path("overlay"), ["tesslate-backend", "tesslate-frontend", "tesslate-deerflow"], "beta");

        Assert.Equal(2, findings.Count);
        Assert.All(findings, f => Assert.Equal(tree.Path("overlay/kustomization.yaml"), f.File));
        Assert.Contains(findings, f => f.Problem.Contains("'tesslate-deerflow'", StringComparison.Ordinal) && f.Problem.Contains("no entry", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Problem.Contains("'tesslate-frontend'", StringComparison.Ordinal) && f.Problem.Contains("'latest'", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unknown_field_in_a_rendered_object_is_reported_with_the_object_and_the_field()
    {
        var yaml = MinimalDeployment("app", "tesslate-backend").Replace("  replicas: 1", "  replicas: 1\n  replicaz: 2", StringComparison.Ordinal);

        var (_, problems) = TypedManifest.Load(yaml);

        var problem = Assert.Single(problems);
        Assert.Equal("Deployment/app", problem.Object);
        Assert.Contains("replicaz", problem.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_field_in_a_custom_resource_is_reported()
    {
        const string yaml = "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotClass\nmetadata:\n  name: s\ndriver: d\ndeletionPolicy: Delete\nretain: true\n";

        var (_, problems) = TypedManifest.Load(yaml);

        Assert.Contains("'retain'", Assert.Single(problems).Problem, StringComparison.Ordinal);
    }

    internal static string MinimalDeployment(string name, string image) => $"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
        spec:
          replicas: 1
          selector:
            matchLabels:
              app: {name}
          template:
            metadata:
              labels:
                app: {name}
            spec:
              containers:
                - name: main
                  image: {image}

        """;
}

/// <summary>A temporary directory for bad-input trees, deleted at the end of the test.</summary>
internal sealed class TemporaryTree : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tesslate-infra-").FullName;

    public string Path(string relative) => System.IO.Path.Combine(_root, relative);

    public void Write(string relative, string content)
    {
        var file = Path(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.WriteAllText(file, content);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
