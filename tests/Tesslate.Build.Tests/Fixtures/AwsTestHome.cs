using System.Runtime.CompilerServices;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// Before any test runs: AWS config and credentials files of our own (empty), so no test reads the developer's ~/.aws,
/// and no instance-metadata lookups. It must happen first because AWSSDK.Core fixes the file paths at its first use.
/// </summary>
internal static class AwsTestHome
{
    public static string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("tesslate-tests-aws-").FullName;

    public static string ConfigFile => Path.Combine(Directory, "config");

    public static string CredentialsFile => Path.Combine(Directory, "credentials");

    [ModuleInitializer]
    internal static void Isolate()
    {
        File.WriteAllText(ConfigFile, "");
        File.WriteAllText(CredentialsFile, "");
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", ConfigFile);
        Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", CredentialsFile);
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        };
    }
}
