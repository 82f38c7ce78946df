# Outputs keep the live names and meanings.

output "ecr_registry_url" {
  description = "ECR registry host"
  value       = split("/", aws_ecr_repository.backend.repository_url)[0]
}

output "ecr_backend_url" {
  description = "Backend repository"
  value       = aws_ecr_repository.backend.repository_url
}

output "ecr_frontend_url" {
  description = "Frontend repository"
  value       = aws_ecr_repository.frontend.repository_url
}

output "ecr_devserver_url" {
  description = "Devserver repository"
  value       = aws_ecr_repository.devserver.repository_url
}

output "ecr_ast_url" {
  description = "AST sidecar repository"
  value       = aws_ecr_repository.ast.repository_url
}

output "ecr_login_command" {
  description = "docker login to ECR"
  value       = "aws ecr get-login-password --region ${var.aws_region} | docker login --username AWS --password-stdin ${split("/", aws_ecr_repository.backend.repository_url)[0]}"
}

output "vpc_id" {
  description = "Platform VPC"
  value       = module.vpc.vpc_id
}

output "vpc_cidr" {
  description = "Platform VPC range"
  value       = module.vpc.vpc_cidr_block
}

output "cluster_name" {
  description = "Platform cluster name"
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "Platform cluster API endpoint"
  value       = module.eks.cluster_endpoint
}

output "eks_deployer_role_arn" {
  description = "The platform cluster's eks-deployer role"
  value       = aws_iam_role.eks_deployer.arn
}

output "cluster_certificate_authority_data" {
  description = "Cluster CA certificate (base64)"
  value       = module.eks.cluster_certificate_authority_data
  sensitive   = true
}

output "cluster_oidc_provider_arn" {
  description = "The cluster's OIDC provider (IRSA)"
  value       = module.eks.oidc_provider_arn
}

output "nlb_hostname" {
  description = "The platform ingress NLB"
  value       = local.nlb_hostname
}

output "headscale_url" {
  description = "Headscale's URL"
  value       = "https://${var.headscale_subdomain}.${var.domain_name}"
}

output "litestream_bucket_name" {
  description = "Litestream replica bucket"
  value       = aws_s3_bucket.litestream.id
}

output "litestream_bucket_arn" {
  description = "Litestream replica bucket ARN"
  value       = aws_s3_bucket.litestream.arn
}

output "configure_kubectl_command" {
  description = "kubectl context for the platform cluster (as eks-deployer)"
  value       = "aws eks update-kubeconfig --name ${module.eks.cluster_name} --region ${var.aws_region} --role-arn ${aws_iam_role.eks_deployer.arn}"
}

output "verify_headscale_command" {
  description = "Headscale's pods"
  value       = "kubectl get pods -n headscale"
}

output "github_oidc_provider_arn" {
  description = "GitHub's OIDC provider of the account (null with create_github_oidc_provider = false)"
  value       = module.github_oidc_provider.arn
}
