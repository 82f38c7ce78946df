namespace Tesslate.Build.Tests.Terraform;

/// <summary>Plans in the shape of <c>terraform show -json</c> (format 1.2), with sensitive values in plain text as real plans have.</summary>
internal static class PlanFixtures
{
    public const string DatabasePassword = "pl4in-text-db-password-9f3a";

    public const string WithDestroyAndReplace = $$"""
        {
          "format_version": "1.2",
          "terraform_version": "1.11.4",
          "variables": { "db_password": { "value": "{{DatabasePassword}}" }, "environment": { "value": "beta" } },
          "planned_values": { "root_module": {} },
          "resource_changes": [
            {
              "address": "aws_db_instance.main",
              "mode": "managed", "type": "aws_db_instance", "name": "main",
              "change": {
                "actions": ["update"],
                "before": { "password": "{{DatabasePassword}}", "instance_class": "db.t3.small" },
                "after": { "password": "{{DatabasePassword}}", "instance_class": "db.t3.medium" },
                "before_sensitive": { "password": true }, "after_sensitive": { "password": true }
              }
            },
            {
              "address": "module.eks.aws_eks_node_group.primary",
              "module_address": "module.eks",
              "mode": "managed", "type": "aws_eks_node_group", "name": "primary",
              "change": { "actions": ["delete", "create"], "before": { "ami_type": "AL2_x86_64" }, "after": { "ami_type": "AL2023_x86_64_STANDARD" } },
              "action_reason": "replace_because_cannot_update"
            },
            {
              "address": "aws_security_group.nodes",
              "mode": "managed", "type": "aws_security_group", "name": "nodes",
              "change": { "actions": ["create", "delete"], "before": {}, "after": {} }
            },
            {
              "address": "kubernetes_secret.app[\"api-key\"]",
              "mode": "managed", "type": "kubernetes_secret", "name": "app", "index": "api-key",
              "change": { "actions": ["create"], "before": null, "after": { "data": { "API_KEY": "{{DatabasePassword}}" } } }
            },
            {
              "address": "aws_s3_bucket.old_logs",
              "mode": "managed", "type": "aws_s3_bucket", "name": "old_logs",
              "change": { "actions": ["delete"], "before": { "bucket": "old-logs" }, "after": null }
            },
            {
              "address": "aws_vpc.main",
              "mode": "managed", "type": "aws_vpc", "name": "main",
              "change": { "actions": ["no-op"], "before": {}, "after": {} }
            },
            {
              "address": "data.aws_caller_identity.current",
              "mode": "data", "type": "aws_caller_identity", "name": "current",
              "change": { "actions": ["read"], "before": null, "after": {} }
            }
          ]
        }
        """;

    public const string CreateAndUpdateOnly = """
        {
          "format_version": "1.2",
          "resource_changes": [
            { "address": "helm_release.ingress_nginx", "change": { "actions": ["update"] } },
            { "address": "aws_iam_role.deployer", "change": { "actions": ["create"] } },
            { "address": "aws_vpc.main", "change": { "actions": ["no-op"] } }
          ]
        }
        """;

    public const string Version19 = """{"terraform_version":"1.9.8","platform":"linux_amd64","provider_selections":{},"terraform_outdated":true}""";

    public const string Version111 = """{"terraform_version":"1.11.0","platform":"darwin_arm64","provider_selections":{},"terraform_outdated":false}""";

    /// <summary>The takeover's classic mistake: the ECR repositories re-addressed under for_each without moved blocks.</summary>
    public const string RenamedWithoutMovedBlocks = """
        {
          "format_version": "1.2",
          "terraform_version": "1.11.4",
          "resource_changes": [
            { "address": "aws_ecr_repository.backend", "mode": "managed", "type": "aws_ecr_repository", "name": "backend",
              "change": { "actions": ["delete"], "before": {}, "after": null } },
            { "address": "aws_ecr_repository.catalog[\"backend\"]", "mode": "managed", "type": "aws_ecr_repository", "name": "catalog", "index": "backend",
              "change": { "actions": ["create"], "before": null, "after": {} } },
            { "address": "aws_ecr_repository.catalog[\"frontend\"]", "mode": "managed", "type": "aws_ecr_repository", "name": "catalog", "index": "frontend",
              "change": { "actions": ["create"], "before": null, "after": {} } },
            { "address": "kubernetes_namespace.tesslate", "mode": "managed", "type": "kubernetes_namespace", "name": "tesslate",
              "change": { "actions": ["delete"], "before": {}, "after": null } },
            { "address": "kubernetes_namespace_v1.tesslate", "mode": "managed", "type": "kubernetes_namespace_v1", "name": "tesslate",
              "change": { "actions": ["create"], "before": null, "after": {} } },
            { "address": "module.eks.module.eks_managed_node_group[\"spot\"].aws_eks_node_group.this[0]", "module_address": "module.eks.module.eks_managed_node_group[\"spot\"]",
              "mode": "managed", "type": "aws_eks_node_group", "name": "this", "index": 0,
              "change": { "actions": ["delete", "create"], "before": {}, "after": {} } }
          ]
        }
        """;
}
