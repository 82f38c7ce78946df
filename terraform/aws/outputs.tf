output "cluster_name" {
  description = "EKS cluster name (also the kube context alias the pipeline uses)."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "EKS API endpoint."
  value       = module.eks.cluster_endpoint
}

output "ecr_registry" {
  description = "Registry of the catalog images (repositories are created by terraform/shared)."
  value       = local.ecr_registry
}

output "eks_deployer_role_arn" {
  description = "tesslate-<env>-eks-eks-deployer."
  value       = module.eks_deployer_role.arn
}

output "team_role_arns" {
  description = "Team role ARNs by role (observer, deployer, debugger, admin)."
  value       = { for role, module_output in module.team_role : role => module_output.arn }
}

output "github_deploy_role_arn" {
  description = "Role the GitHub environment of this stack assumes through OIDC (aws-actions/configure-aws-credentials role-to-assume)."
  value       = module.github_deploy_role.arn
}

output "projects_bucket" {
  description = "S3 bucket of user projects and snapshots."
  value       = aws_s3_bucket.projects.bucket
}

output "ingress_hostname" {
  description = "Hostname of the ingress NLB."
  value       = local.ingress_hostname
}

output "database_host" {
  description = "Host of the application database (RDS address, or the in-cluster service name)."
  value       = local.postgres_host
}
