namespace Tesslate.Build.Terraform;

/// <summary>
/// A private temp folder (0700, files 0600) for plan files and their JSON, which hold sensitive values in plain text.
/// Deleted on dispose, which the owner does in a finally: after success, failure and Ctrl-C alike.
/// </summary>
public sealed class TerraformWorkspace : IDisposable
{
    private const UnixFileMode PrivateFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private TerraformWorkspace(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>Where <c>plan -out</c> writes the saved plan.</summary>
    public string PlanFile => Path.Combine(Directory, "plan.tfplan");

    /// <summary>Where the plan's <c>show -json</c> text is kept for the rest of the run.</summary>
    public string PlanJsonFile => Path.Combine(Directory, "plan.json");

    public static TerraformWorkspace Create(string? parent = null)
    {
        var root = parent ?? Path.GetTempPath();
        var path = Path.Combine(root, "tesslate-terraform-" + Guid.NewGuid().ToString("N")[..12]);
        if (OperatingSystem.IsWindows())
            System.IO.Directory.CreateDirectory(path);
        else
            System.IO.Directory.CreateDirectory(path, PrivateFolder);
        return new TerraformWorkspace(path);
    }

    /// <summary>Writes a file only the current user can read.</summary>
    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(Directory, name);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = PrivateFile;
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(content);
        MakePrivate(path);
        return path;
    }

    /// <summary>Narrows a file Terraform wrote (with its own umask) to 0600.</summary>
    public static void MakePrivate(string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path))
            File.SetUnixFileMode(path, PrivateFile);
    }

    public void Dispose()
    {
        try
        {
            if (System.IO.Directory.Exists(Directory))
                System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open (e.g. on Windows) must not turn a finished run into a failure; the folder is private.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
