using Tesslate.Build.Engine;

namespace Tesslate.Build.Platform;

/// <summary>The terraform state subcommand and its address(es), parsed before anything runs.</summary>
public sealed record StateCommand(string Verb, IReadOnlyList<string> Addresses)
{
    public bool Mutates => Verb == "rm";
}

/// <summary>Input rules of the operations targets that must hold before any side effect (pure).</summary>
public static class OperationRules
{
    /// <summary><c>--state-args list | show ADDRESS | rm ADDRESS…</c>; anything else is a usage error before Terraform runs.</summary>
    public static StateCommand ParseStateArgs(IReadOnlyList<string> arguments)
    {
        var args = arguments.Count == 0 ? ["list"] : arguments;
        return args switch
        {
            ["list"] => new StateCommand("list", []),
            ["show", var address] => new StateCommand("show", [address]),
            ["rm", _, ..] => new StateCommand("rm", [.. args.Skip(1)]),
            ["rm"] => throw new UsageException("--state-args rm needs the address(es) to remove.", "e.g. --state-args rm module.eks.helm_release.cert_manager (TerraformState --state-args list shows them)."),
            ["show"] => throw new UsageException("--state-args show needs one address.", "e.g. --state-args show module.eks.aws_eks_cluster.this[0]"),
            _ => throw new UsageException($"--state-args '{string.Join(' ', args)}' is not one of: list | show ADDRESS | rm ADDRESS.", "e.g. --state-args show module.eks.aws_eks_cluster.this[0]"),
        };
    }
}
