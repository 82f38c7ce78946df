output "ecr_registry" {
  description = "Registry host of the catalog images."
  value       = "${local.account_id}.dkr.ecr.${var.aws_region}.amazonaws.com"
}

output "ecr_repository_urls" {
  description = "Repository URL per catalog repository name."
  value       = { for name, repository in aws_ecr_repository.catalog : name => repository.repository_url }
}

output "platform_cluster_name" {
  description = "Name of the platform cluster."
  value       = module.eks.cluster_name
}

output "eks_deployer_role_arn" {
  description = "tesslate-platform-eks-eks-deployer."
  value       = module.eks_deployer_role.arn
}
