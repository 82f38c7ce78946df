using Tesslate.Build.Terraform;
using Xunit;

namespace Tesslate.Build.Tests.Terraform;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TerraformWorkspaceTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void Files_are_0600_in_a_0700_folder_that_dispose_deletes()
    {
        string path;
        using (var workspace = TerraformWorkspace.Create())
        {
            path = workspace.WriteFile("terraform.tfvars", "db_password = \"x\"\n");
            Assert.Equal("db_password = \"x\"\n", File.ReadAllText(path));
            Assert.Equal(Private, File.GetUnixFileMode(path));
            Assert.Equal(Private | UnixFileMode.UserExecute, File.GetUnixFileMode(workspace.Directory));
        }
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }

    [Fact]
    public void A_file_terraform_wrote_with_its_own_umask_is_narrowed_to_0600()
    {
        using var workspace = TerraformWorkspace.Create();
        File.WriteAllText(workspace.PlanJsonFile, "{}");
        File.SetUnixFileMode(workspace.PlanJsonFile, Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        TerraformWorkspace.MakePrivate(workspace.PlanJsonFile);
        Assert.Equal(Private, File.GetUnixFileMode(workspace.PlanJsonFile));
    }
}
