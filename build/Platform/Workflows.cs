using System.Text.RegularExpressions;
using Serilog;
using Tesslate.Build.Engine;
using Tesslate.Build.Engine.Processes;
using Tesslate.Build.Engine.Workflows;
using Tesslate.Build.GitHub;

namespace Tesslate.Build.Platform;

/// <summary>What the generated workflows need to know about the repository they run in.</summary>
public sealed record WorkflowSettings
{
    /// <summary>A semver range for hashicorp/setup-terraform, from the stack's <c>required_version</c>.</summary>
    public string TerraformVersion { get; init; } = TerraformVersions.FromConstraint(TerraformVersions.LegacyConstraint);

    public string AwsRegion { get; init; } = "us-east-1";

    /// <summary>The account the deploy role must belong to (configure-aws-credentials fails otherwise).</summary>
    public string AwsAccountId { get; init; } = EnvironmentTable.TesslateAccountId;

    /// <summary>The application repository the images are built from (checked out next to this one).</summary>
    public string ApplicationRepository { get; init; } = "TesslateAI/Studio";

    /// <summary>
    /// The application ref a push deploys, and the <c>application-ref</c> input's default: the application's main branch
    /// (locally ApplicationRef has no default, since a laptop's source root already has a commit checked out).
    /// </summary>
    public string ApplicationDefaultRef { get; init; } = "main";

    /// <summary>Reads the Terraform constraint from the AWS stack under <paramref name="repositoryRoot"/>, when there is one.</summary>
    public static WorkflowSettings For(string repositoryRoot)
    {
        var stack = Path.Combine(repositoryRoot, "terraform", "aws");
        var constraint = Directory.Exists(stack)
            ? Directory.EnumerateFiles(stack, "*.tf").Order(StringComparer.Ordinal).Select(f => TerraformVersions.RequiredVersion(File.ReadAllText(f))).FirstOrDefault(v => v is not null)
            : null;
        return constraint is null ? new WorkflowSettings() : new WorkflowSettings { TerraformVersion = TerraformVersions.FromConstraint(constraint) };
    }
}

/// <summary>
/// The Build's parameters deploy.yml offers as dispatch inputs, handed over by the Build (<c>Build.Workflows.cs</c>) so
/// that a renamed parameter, a changed description or a new environment reaches the YAML, and the drift check.
/// </summary>
/// <param name="Environment">Where to deploy: a choice of <see cref="PipelineWorkflows.Environments"/>.</param>
/// <param name="ApplicationRef">
/// Which application commit: resolved to a full SHA once, by the build job's first step; both jobs pass that SHA on
/// with this parameter's flag, so the pipeline checks it against the tree and the build report it gets.
/// </param>
/// <param name="BuildOptions">Passed on to BuildImages as flags when given.</param>
public sealed record DeployInputs(ParameterDescriptor Environment, ParameterDescriptor ApplicationRef, IReadOnlyList<ParameterDescriptor> BuildOptions);

/// <summary>
/// The GitHub Actions workflows of this repository, declared next to the targets they run and written by
/// <c>./build.sh GenerateWorkflows</c>: <c>ci.yml</c> (tests, drift check, offline deploy dry-runs) and
/// <c>deploy.yml</c> (images built in one job, released in an environment-gated job through OIDC).
/// </summary>
public static class PipelineWorkflows
{
    public const string RegenerateCommand = "./build.sh GenerateWorkflows";
    public const string Directory = ".github/workflows";
    public const string MainBranch = "main";

    /// <summary>The environments CI deploys: those with a registry in AWS and workloads (not local, not the Terraform-only shared stack).</summary>
    public static IReadOnlyList<string> Environments { get; } =
        [.. Enum.GetValues<DeployEnvironment>().Select(EnvironmentTable.Defaults).Where(e => e is { UsesEcr: true, HasWorkloads: true }).Select(e => ParameterDescriptor.Display(e.Name))];

    /// <summary>What a push to the main branch deploys (push events have no inputs).</summary>
    public static string PushEnvironment { get; } = ParameterDescriptor.Display(DeployEnvironment.Beta);

    /// <summary>Where BuildImages leaves its build report for the deploy job (read back with --build-report).</summary>
    public const string BuildReportFile = ".nuke/temp/build-report.json";

    /// <summary>
    /// The run's report files (run-report.json and the reports targets add). The Markdown summary needs no file: the
    /// pipeline appends it to <c>$GITHUB_STEP_SUMMARY</c> itself, also when a target failed.
    /// </summary>
    public const string ReportFiles = ".nuke/temp/*.json";

    private const string ApplicationSourceDirectory = "app-source";

    /// <summary>The job that resolves the application ref, builds the images and hands the commit on.</summary>
    public const string BuildJob = "build-images";

    /// <summary>The build job's first step, which resolves the requested application ref to a full commit SHA.</summary>
    public const string ResolveStepId = "application";

    /// <summary>The build job's output holding that SHA (also the step's output name).</summary>
    public const string ApplicationCommitOutput = "application-commit";

    /// <summary>The expression the deploy job reads the resolved application commit from.</summary>
    public static string ResolvedApplicationCommit { get; } = $"${{{{ needs.{BuildJob}.outputs.{ApplicationCommitOutput} }}}}";

    public static GeneratedFileHeader Header { get; } = new($"{RegenerateCommand}  (check: {RegenerateCommand} --check)", "build/Platform/Workflows.cs");

    public static IReadOnlyList<Workflow> All(WorkflowSettings settings, DeployInputs inputs) => [Ci(), Deploy(settings, inputs)];

    /// <summary>
    /// The GenerateWorkflows target: with <paramref name="check"/>, fails with a diff when the files on disk differ from
    /// the declarations (writes nothing); otherwise writes them and has GitHub's parser validate what was written
    /// (skipped with a warning when the parser is not installed).
    /// </summary>
    public static async Task GenerateAsync(string repositoryRoot, bool check, DeployInputs inputs, IProcessRunner runner, ILogger logger, CancellationToken cancellationToken)
    {
        var workflows = All(WorkflowSettings.For(repositoryRoot), inputs);
        var files = new WorkflowFiles(Header);
        var directory = Path.Combine(repositoryRoot, Directory);
        if (check)
        {
            await files.EnsureUpToDateAsync(directory, workflows, RegenerateCommand, logger, cancellationToken);
            return;
        }
        var written = await files.WriteAsync(directory, workflows, cancellationToken);
        foreach (var path in written)
            logger.Information("Wrote {Path}", Path.GetRelativePath(repositoryRoot, path));
        if (written.Count == 0)
            logger.Information("Generated workflows in {Directory} were already up to date.", Directory);

        var parser = new ActionsWorkflowParser(runner, Path.Combine(repositoryRoot, ParserDirectory));
        if (!System.IO.Directory.Exists(Path.Combine(parser.ToolDirectory, "node_modules")))
        {
            logger.Warning("GitHub's workflow parser is not installed; the generated files were not validated. Run 'npm ci --prefix {Directory}'.", ParserDirectory);
            return;
        }
        await parser.ValidateAsync(workflows.Select(w => Path.Combine(directory, w.FileName)), cancellationToken);
        logger.Information("GitHub's workflow parser accepts {Count} workflow files.", workflows.Count);
    }

    /// <summary>Where GitHub's workflow parser is installed (package.json and lock file in the repository).</summary>
    public const string ParserDirectory = "tests/tools/workflow-parser";

    public static Workflow Ci() => new("ci.yml", "CI")
    {
        On = new WorkflowTriggers
        {
            Push = new PushTrigger { Branches = [MainBranch] },
            PullRequest = new PullRequestTrigger(),
        },
        Permissions = Permissions.Empty.Read(PermissionScope.Contents),
        Concurrency = new Concurrency("ci-${{ github.event.pull_request.number || github.ref }}", CancelInProgress: true),
        Env = DotnetEnvironment,
        Jobs =
        [
            new Job("test")
            {
                Name = "Build and test",
                TimeoutMinutes = 60,
                Permissions = Permissions.Empty.Read(PermissionScope.Contents),
                Steps =
                [
                    Step.Action("Check out", PinnedActions.Checkout),
                    SetupDotnet,
                    Step.Action("Set up Node (GitHub's workflow parser)", PinnedActions.SetupNode, new Dictionary<string, string> { ["node-version"] = "20" }),
                    Step.Action("Set up Python (moto)", PinnedActions.SetupPython, new Dictionary<string, string> { ["python-version"] = "3.12" }),
                    Step.Script("Install what the runner lacks", """
                        set -euo pipefail
                        sudo apt-get update
                        sudo apt-get install -y --no-install-recommends docker-registry busybox-static
                        python -m pip install --disable-pip-version-check 'moto[server]'
                        npm ci --prefix tests/tools/workflow-parser
                        """),
                    Step.Script("Generated workflows are up to date", $"{RegenerateCommand} --check"),
                    Step.Script("Build and run the tests", ".ci/run"),
                ],
            },
            new Job("deploy-dry-run")
            {
                Name = "Deploy dry-run (${{ matrix.environment }})",
                TimeoutMinutes = 20,
                Permissions = Permissions.Empty.Read(PermissionScope.Contents),
                Strategy = new JobStrategy
                {
                    Matrix = new Dictionary<string, IReadOnlyList<string>> { ["environment"] = Environments },
                    FailFast = false,
                },
                Steps =
                [
                    Step.Action("Check out", PinnedActions.Checkout),
                    SetupDotnet,
                    // No AWS credentials here (pull requests must not have them): the dry-run reports what it could not check.
                    Step.Script("Plan the deploy offline", "./build.sh Deploy --environment \"$DEPLOY_ENVIRONMENT\" --dry-run",
                        new Dictionary<string, string> { ["DEPLOY_ENVIRONMENT"] = "${{ matrix.environment }}", ["AWS_EC2_METADATA_DISABLED"] = "true" }),
                ],
            },
        ],
    };

    public static Workflow Deploy(WorkflowSettings settings, DeployInputs inputs)
    {
        var selected = $"inputs.{inputs.Environment.Name} || '{PushEnvironment}'";
        var environment = $"${{{{ {selected} }}}}";
        var requested = $"${{{{ inputs.{inputs.ApplicationRef.Name} || '{settings.ApplicationDefaultRef}' }}}}";
        return new("deploy.yml", "Deploy")
        {
            // Evaluated when the run is created, before any job: it names the ref as requested (the application CI requests a full SHA).
            RunName = $"Deploy {requested} to {environment}",
            On = new WorkflowTriggers
            {
                Push = new PushTrigger { Branches = [MainBranch], PathsIgnore = ["docs/**", "**.md"] },
                WorkflowDispatch = new WorkflowDispatchTrigger([
                    WorkflowInput.ForParameter(inputs.Environment) with { Options = [.. Environments], Default = PushEnvironment, Required = true },
                    WorkflowInput.ForParameter(inputs.ApplicationRef) with { Default = settings.ApplicationDefaultRef, Required = true },
                    .. inputs.BuildOptions.Select(WorkflowInput.ForParameter)]),
            },
            // Nothing by default: each job lists what it needs.
            Permissions = Permissions.Empty,
            // One deploy per environment at a time; a running deploy is never cancelled halfway.
            Concurrency = new Concurrency($"deploy-{environment}", CancelInProgress: false),
            Env = new Dictionary<string, string>(DotnetEnvironment)
            {
                ["DEPLOY_ENVIRONMENT"] = environment,
                ["APPLICATION_REPOSITORY"] = $"${{{{ vars.APPLICATION_REPOSITORY || '{settings.ApplicationRepository}' }}}}",
            },
            Jobs =
            [
                new Job(BuildJob)
                {
                    Name = $"Build images ({environment})",
                    TimeoutMinutes = 45,
                    Permissions = Permissions.Empty.Read(PermissionScope.Contents).Write(PermissionScope.IdToken),
                    // The one application commit of this run: the deploy job reads it from here, never from a ref again.
                    Outputs = new Dictionary<string, string> { [ApplicationCommitOutput] = $"${{{{ steps.{ResolveStepId}.outputs.{ApplicationCommitOutput} }}}}" },
                    Steps =
                    [
                        ResolveApplicationRef(requested),
                        ProductionOnlyFromMain,
                        Step.Action("Check out", PinnedActions.Checkout),
                        CheckoutApplication($"${{{{ steps.{ResolveStepId}.outputs.{ApplicationCommitOutput} }}}}"),
                        SetupDotnet,
                        // No environment here (its reviewers gate the deploy job only), so the role is a repository variable per environment.
                        AwsCredentials(settings, $"${{{{ vars[format('AWS_BUILD_ROLE_ARN_{{0}}', {selected})] }}}}"),
                        BuildAndPushImages(inputs),
                        Step.Action("Upload the build report", PinnedActions.UploadArtifact, new Dictionary<string, string>
                        {
                            ["name"] = "build-report",
                            ["path"] = BuildReportFile,
                            ["if-no-files-found"] = "error",
                            ["retention-days"] = "7",
                        }),
                    ],
                },
                new Job("deploy")
                {
                    Name = $"Deploy to {environment}",
                    Needs = [BuildJob],
                    // Production's required reviewers approve here, before the job starts; hence --approve below. No deployment
                    // object from GitHub: the pipeline creates the one that names the application commit (DeploymentRecorder).
                    Environment = new JobEnvironment(environment, "${{ vars.ENVIRONMENT_URL }}", Deployment: false),
                    TimeoutMinutes = 45,
                    Permissions = Permissions.Empty.Read(PermissionScope.Contents).Write(PermissionScope.Deployments, PermissionScope.IdToken),
                    // No application checkout: with the build report nothing here reads the application's tree.
                    Steps =
                    [
                        ProductionOnlyFromMain,
                        Step.Action("Check out", PinnedActions.Checkout),
                        SetupDotnet,
                        Step.Action("Set up Terraform", PinnedActions.SetupTerraform, new Dictionary<string, string>
                        {
                            ["terraform_version"] = settings.TerraformVersion,
                            ["terraform_wrapper"] = "false",
                        }),
                        // The environment's own variable: readable only once its protection rules passed.
                        AwsCredentials(settings, "${{ vars.AWS_DEPLOY_ROLE_ARN }}"),
                        Step.Action("Download the build report", PinnedActions.DownloadArtifact, new Dictionary<string, string> { ["name"] = "build-report", ["path"] = "build-report" }),
                        new Step
                        {
                            Name = "Deploy",
                            Id = "deploy",
                            Run = $"./build.sh Deploy {inputs.Environment.Flag} \"$DEPLOY_ENVIRONMENT\" {inputs.ApplicationRef.Flag} \"$APPLICATION_COMMIT\" --build-report build-report/{Path.GetFileName(BuildReportFile)} --skip BuildImages --approve",
                            Env = new Dictionary<string, string>
                            {
                                ["APPLICATION_COMMIT"] = ResolvedApplicationCommit,
                                // The job's token records the deployment (deployments: write).
                                ["GITHUB_TOKEN"] = "${{ github.token }}",
                            },
                        },
                        Step.Action("Upload the run report", PinnedActions.UploadArtifact, new Dictionary<string, string>
                        {
                            ["name"] = $"deploy-report-{environment}",
                            ["path"] = ReportFiles,
                            ["if-no-files-found"] = "warn",
                        }) with { If = "always()" },
                    ],
                },
            ],
        };
    }

    /// <summary>
    /// The build job's first step: the requested ref (a branch, tag or full SHA; the input, never spliced into the script)
    /// is resolved to a full commit SHA in the application repository by a shallow, tree-less fetch of just that commit,
    /// with the same token the checkout uses, and the step fails naming the ref when it names nothing. Nothing else runs
    /// before it, and nothing after it reads the ref again.
    /// </summary>
    public static Step ResolveApplicationRef(string requested) => new()
    {
        Name = "Resolve the application ref",
        Id = ResolveStepId,
        Run = $$"""
            set -euo pipefail
            # Workflow-command data is escaped, so no ref (or git message) can start a command of its own.
            escape() { local text=${1//'%'/%25}; text=${text//$'\r'/%0D}; printf '%s' "${text//$'\n'/%0A}"; }
            shown=$(escape "$APPLICATION_REF")
            fail() { echo "::error title=application-ref::$1"; exit 1; }
            if [[ ! "$APPLICATION_REF" =~ ^[0-9a-fA-F]{40}$ ]] && { [[ -z "$APPLICATION_REF" || "$APPLICATION_REF" == -* ]] || ! git check-ref-format --allow-onelevel "$APPLICATION_REF"; }; then
              fail "application-ref '$shown' is not a branch, tag or full commit SHA of $APPLICATION_REPOSITORY."
            fi
            work="${RUNNER_TEMP:-/tmp}/application-ref"
            rm -rf "$work" && git init --quiet --bare "$work"
            git -C "$work" remote add origin "${GITHUB_SERVER_URL:-https://github.com}/$APPLICATION_REPOSITORY"
            git -C "$work" config remote.origin.promisor true
            git -C "$work" config remote.origin.partialclonefilter tree:0
            if [ -n "${APPLICATION_TOKEN:-}" ]; then
              basic=$(printf 'x-access-token:%s' "$APPLICATION_TOKEN" | base64 | tr -d '\n')
              echo "::add-mask::$basic"
              export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=http.extraheader GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $basic"
            fi
            if ! git -C "$work" fetch --quiet --no-tags --depth=1 --filter=tree:0 origin "$APPLICATION_REF" 2> "$work.log"; then
              fail "application-ref '$shown' does not resolve in $APPLICATION_REPOSITORY: $(escape "$(tail -n 1 "$work.log")")"
            fi
            commit=$(git -C "$work" rev-parse --verify --end-of-options 'FETCH_HEAD^{commit}')
            echo "{{ApplicationCommitOutput}}=$commit" >> "$GITHUB_OUTPUT"
            echo "Application commit: $APPLICATION_REPOSITORY \`$APPLICATION_REF\` is \`$commit\`" >> "$GITHUB_STEP_SUMMARY"
            echo "application-ref '$APPLICATION_REF' is $APPLICATION_REPOSITORY@$commit"
            """,
        Env = new Dictionary<string, string>
        {
            ["APPLICATION_REF"] = requested,
            ["APPLICATION_TOKEN"] = ApplicationToken,
        },
    };

    // Inputs reach the script as variables, never spliced into its text (no script injection); empty means not given.
    // The application ref arrives resolved: the pipeline checks that the checkout is that commit and records it.
    private static Step BuildAndPushImages(DeployInputs inputs)
    {
        var options = inputs.BuildOptions.Select(p => (Parameter: p, Variable: p.Name.Replace('-', '_').ToUpperInvariant())).ToList();
        string[] script =
        [
            "set -euo pipefail",
            $"args=(BuildImages {inputs.Environment.Flag} \"$DEPLOY_ENVIRONMENT\" --source-root {ApplicationSourceDirectory} {inputs.ApplicationRef.Flag} \"$APPLICATION_COMMIT\")",
            .. options.Select(o => o.Parameter.IsFlag
                ? $"if [ \"${o.Variable}\" = \"true\" ]; then args+=({o.Parameter.Flag}); fi"
                : $"if [ -n \"${o.Variable}\" ]; then args+=({o.Parameter.Flag} \"${o.Variable}\"); fi"),
            "./build.sh \"${args[@]}\"",
        ];
        return Step.Script("Build and push images", string.Join('\n', script), new Dictionary<string, string>(
            [.. options.Select(o => KeyValuePair.Create(o.Variable, $"${{{{ inputs.{o.Parameter.Name} }}}}")),
             KeyValuePair.Create("APPLICATION_COMMIT", $"${{{{ steps.{ResolveStepId}.outputs.{ApplicationCommitOutput} }}}}")]));
    }

    private static IReadOnlyDictionary<string, string> DotnetEnvironment { get; } = new Dictionary<string, string>
    {
        ["DOTNET_NOLOGO"] = "true",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "true",
    };

    private static Step SetupDotnet { get; } = Step.Action("Set up .NET from global.json", PinnedActions.SetupDotnet, new Dictionary<string, string> { ["global-json-file"] = "global.json" });

    // The legacy workflow's guard: production deploys only from the main branch, whatever the dispatcher picked.
    private static Step ProductionOnlyFromMain { get; } = Step.Script("Production deploys only from main", $"""
        if [ "$DEPLOY_ENVIRONMENT" = "production" ] && [ "$GITHUB_REF" != "refs/heads/{MainBranch}" ]; then
          echo "::error::Production deploys run only from {MainBranch}; this run is on $GITHUB_REF."
          exit 1
        fi
        """);

    // A private application repository needs a token that can read it; the public one is read with the job's own.
    private const string ApplicationToken = "${{ secrets.APPLICATION_REPOSITORY_TOKEN || github.token }}";

    /// <summary>The application at exactly <paramref name="commit"/> (an expression for a full SHA, never a branch).</summary>
    private static Step CheckoutApplication(string commit) =>
        Step.Action("Check out the application", PinnedActions.Checkout, new Dictionary<string, string>
        {
            ["repository"] = "${{ env.APPLICATION_REPOSITORY }}",
            ["ref"] = commit,
            ["path"] = ApplicationSourceDirectory,
            ["submodules"] = "recursive",
            ["token"] = ApplicationToken,
        });

    // OIDC: a short-lived role session, no static keys; the account check stops a role ARN pointing elsewhere.
    private static Step AwsCredentials(WorkflowSettings settings, string role) =>
        Step.Action("AWS credentials (OIDC)", PinnedActions.ConfigureAwsCredentials, new Dictionary<string, string>
        {
            ["role-to-assume"] = role,
            ["role-session-name"] = "deploy-${{ github.run_id }}",
            ["aws-region"] = settings.AwsRegion,
            ["allowed-account-ids"] = settings.AwsAccountId,
        });
}

/// <summary>Terraform's <c>required_version</c> turned into the semver range hashicorp/setup-terraform understands.</summary>
public static partial class TerraformVersions
{
    /// <summary>What the legacy stacks require.</summary>
    public const string LegacyConstraint = ">= 1.5.0";

    [GeneratedRegex("required_version\\s*=\\s*\"(?<constraint>[^\"]+)\"")]
    private static partial Regex RequiredVersionPattern();

    public static string? RequiredVersion(string hcl) =>
        RequiredVersionPattern().Match(hcl) is { Success: true } match ? match.Groups["constraint"].Value.Trim() : null;

    /// <summary>
    /// Terraform writes <c>~&gt; 1.5</c> (≥ 1.5, &lt; 2) and <c>~&gt; 1.5.0</c> (≥ 1.5.0, &lt; 1.6), and separates
    /// constraints by commas; semver says <c>^1.5</c>, <c>~1.5.0</c> and separates by spaces.
    /// </summary>
    public static string FromConstraint(string constraint) => string.Join(' ', constraint.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(part =>
    {
        if (!part.StartsWith("~>", StringComparison.Ordinal))
            return part.Replace(" ", "", StringComparison.Ordinal);
        var version = part[2..].Trim();
        return version.Count(c => c == '.') >= 2 ? "~" + version : "^" + version;
    }));
}
