using System.Diagnostics;
using Amazon.Runtime;
using Serilog;
using Tesslate.Build.Aws;
using Xunit;

namespace Tesslate.Build.Tests.Fixtures;

/// <summary>
/// A real moto AWS emulator for the test run: TESSLATE_TEST_MOTO_URL if CI started one, else our own
/// <c>moto_server -H 127.0.0.1 -p &lt;free port&gt;</c>, stopped by PID at the end. Tests that use it share the "moto"
/// collection (serialized, since <see cref="ResetAsync"/> clears all state).
/// </summary>
public sealed class MotoFixture : IAsyncLifetime
{
    public const string Region = "us-east-1";
    public const string DefaultAccount = "123456789012";

    private MotoServer? _own;

    public Uri Url { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        // AWS_EC2_METADATA_DISABLED is set once for the whole run by AwsTestHome's module initializer.
        if (System.Environment.GetEnvironmentVariable("TESSLATE_TEST_MOTO_URL") is { Length: > 0 } url)
        {
            Url = new Uri(url.TrimEnd('/') + "/");
            return;
        }
        _own = await MotoServer.StartAsync(new Dictionary<string, string>());
        Url = _own.Url;
    }

    public async ValueTask DisposeAsync()
    {
        if (_own is not null)
            await _own.DisposeAsync();
    }

    public Task ResetAsync() => MotoServer.ResetAsync(Url);

    /// <summary>Variables that point every AWS service at this emulator.</summary>
    public AwsEnvironment Environment(Uri? endpoint = null) => SessionEnvironment(endpoint ?? Url);

    /// <summary>Variables that point every AWS service of an in-process session at <paramref name="endpoint"/>.</summary>
    public static AwsEnvironment SessionEnvironment(Uri endpoint) => AwsEnvironment.From(new Dictionary<string, string?>
    {
        ["AWS_ENDPOINT_URL"] = endpoint.ToString(),
        ["AWS_REGION"] = Region,
    });

    /// <summary>The documented example keys: moto accepts any, and a test can look for them in output.</summary>
    public const string AccessKeyId = "AKIAIOSFODNN7EXAMPLE";
    public const string SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    public static AWSCredentials TestCredentials { get; } = new BasicAWSCredentials(AccessKeyId, SecretAccessKey);

    /// <summary>
    /// The environment a pipeline run (<c>PipelineRun</c>) needs to reach this emulator with the test keys; callers copy
    /// it and add their own variables. <paramref name="eks"/>: a proxy in front of moto's EKS (<see cref="MotoEks"/>).
    /// </summary>
    public Dictionary<string, string> RunEnvironment(Uri? eks = null) => RunEnvironment(Url, AccessKeyId, SecretAccessKey, eks);

    /// <summary>The same for any moto (one of a test class's own) and keys.</summary>
    public static Dictionary<string, string> RunEnvironment(Uri moto, string accessKeyId, string secretAccessKey, Uri? eks = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = moto.ToString().TrimEnd('/'),
            ["AWS_ACCESS_KEY_ID"] = accessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = secretAccessKey,
            ["AWS_REGION"] = Region,
            ["AWS_EC2_METADATA_DISABLED"] = "true",
        };
        if (eks is not null)
            environment["AWS_ENDPOINT_URL_EKS"] = eks.ToString().TrimEnd('/');
        return environment;
    }

    public AwsSession Session(ILogger logger, AwsOptions? options = null, Uri? endpoint = null, AWSCredentials? credentials = null) =>
        AwsSession.FromCredentials(credentials ?? TestCredentials, "test keys", options ?? new AwsOptions { CallTimeout = TimeSpan.FromSeconds(10), RetryBaseDelay = TimeSpan.FromMilliseconds(20) },
            logger, Environment(endpoint));

    /// <summary>Seeds state with the aws CLI (v1, preinstalled with moto), as an operator would.</summary>
    public Task<string> AwsCliAsync(params string[] arguments) => MotoServer.AwsCliAsync(Url, arguments);
}

[CollectionDefinition("moto")]
public sealed class MotoCollection : ICollectionFixture<MotoFixture>;

/// <summary>One moto_server process on a free loopback port.</summary>
public sealed class MotoServer : IAsyncDisposable
{
    private readonly Process _process;

    private MotoServer(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<MotoServer> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var (process, port) = await ServerProcess.StartOnFreePortAsync(port =>
        {
            var start = new ProcessStartInfo("moto_server", ["-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var (name, value) in environment)
                start.Environment[name] = value;
            Process process;
            try
            {
                process = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("moto_server is not on PATH; install moto[server] or set TESSLATE_TEST_MOTO_URL.", e);
            }
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return Task.FromResult(process);
        }, async port =>
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/moto-api/data.json");
            return response.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(60), "moto_server");
        return new MotoServer(process, new Uri($"http://127.0.0.1:{port}/"));
    }

    public static async Task ResetAsync(Uri url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.PostAsync(new Uri(url, "moto-api/reset"), null);
        response.EnsureSuccessStatusCode();
    }

    public static async Task<string> AwsCliAsync(Uri url, params string[] arguments)
    {
        var start = new ProcessStartInfo("aws", ["--endpoint-url", url.ToString().TrimEnd('/'), "--region", MotoFixture.Region, "--output", "json", .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["AWS_ACCESS_KEY_ID"] = MotoFixture.AccessKeyId;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = MotoFixture.SecretAccessKey;
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment.Remove("AWS_PROFILE");
        start.Environment.Remove("AWS_SESSION_TOKEN");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"aws {string.Join(' ', arguments)} failed: {await stderr}");
        return await stdout;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
