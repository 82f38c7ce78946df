using Tesslate.Build.Engine.Workflows;

namespace Tesslate.Build.GitHub;

/// <summary>
/// Actions used by generated workflows, pinned to the commit their release tag pointed to when resolved
/// (a tag can be moved; a commit cannot). To upgrade: read the new tag's commit from the action's repository
/// (<c>git ls-remote https://github.com/&lt;repo&gt; refs/tags/&lt;tag&gt;^{}</c>) and change both here.
/// </summary>
public static class PinnedActions
{
    public static readonly ActionReference Checkout = new("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1");
    public static readonly ActionReference SetupDotnet = new("actions/setup-dotnet", "a98b56852c35b8e3190ac28c8c2271da59106c68", "v6.0.0");
    public static readonly ActionReference SetupNode = new("actions/setup-node", "820762786026740c76f36085b0efc47a31fe5020", "v7.0.0");
    public static readonly ActionReference SetupPython = new("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0");
    public static readonly ActionReference UploadArtifact = new("actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0");
    public static readonly ActionReference DownloadArtifact = new("actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1");
    public static readonly ActionReference ConfigureAwsCredentials = new("aws-actions/configure-aws-credentials", "e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3");
    public static readonly ActionReference SetupTerraform = new("hashicorp/setup-terraform", "dfe3c3f87815947d99a8997f908cb6525fc44e9e", "v4.0.1");

    public static IReadOnlyList<ActionReference> All { get; } =
        [Checkout, SetupDotnet, SetupNode, SetupPython, UploadArtifact, DownloadArtifact, ConfigureAwsCredentials, SetupTerraform];
}
