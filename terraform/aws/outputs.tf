# Outputs keep the live names and meanings: people and scripts read them (terraform output -raw <name>).

output "vpc_id" {
  description = "VPC ID"
  value       = module.vpc.vpc_id
}

output "vpc_cidr" {
  description = "VPC CIDR block"
  value       = module.vpc.vpc_cidr_block
}

output "private_subnets" {
  description = "Private subnet IDs"
  value       = module.vpc.private_subnets
}

output "public_subnets" {
  description = "Public subnet IDs"
  value       = module.vpc.public_subnets
}

output "cluster_name" {
  description = "EKS cluster name (the pipeline's later targets use it)"
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "EKS API endpoint"
  value       = module.eks.cluster_endpoint
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

output "cluster_security_group_id" {
  description = "Cluster security group"
  value       = module.eks.cluster_security_group_id
}

output "node_security_group_id" {
  description = "Node security group"
  value       = module.eks.node_security_group_id
}

output "eks_deployer_role_arn" {
  description = "The eks-deployer role (cluster admin for eks_admin_iam_arns)"
  value       = aws_iam_role.eks_deployer.arn
}

output "team_observer_role_arn" {
  description = "Team observer role"
  value       = aws_iam_role.team_observer.arn
}

output "team_deployer_role_arn" {
  description = "Team deployer role"
  value       = aws_iam_role.team_deployer.arn
}

output "team_debugger_role_arn" {
  description = "Team debugger role"
  value       = aws_iam_role.team_debugger.arn
}

output "team_admin_role_arn" {
  description = "Team admin role"
  value       = aws_iam_role.team_admin.arn
}

output "assume_team_observer_policy_arn" {
  description = "Policy that lets a user assume the observer role"
  value       = aws_iam_policy.assume_team_observer.arn
}

output "assume_team_deployer_policy_arn" {
  description = "Policy that lets a user assume the deployer role"
  value       = aws_iam_policy.assume_team_deployer.arn
}

output "assume_team_debugger_policy_arn" {
  description = "Policy that lets a user assume the debugger role"
  value       = aws_iam_policy.assume_team_debugger.arn
}

output "assume_team_admin_policy_arn" {
  description = "Policy that lets a user assume the admin role"
  value       = aws_iam_policy.assume_team_admin.arn
}

output "team_groups" {
  description = "IAM groups of the team roles (add a user to one)"
  value = {
    observers = aws_iam_group.team_observers.name
    deployers = aws_iam_group.team_deployers.name
    debuggers = aws_iam_group.team_debuggers.name
    admins    = aws_iam_group.team_admins.name
  }
}

output "s3_bucket_name" {
  description = "Project bucket"
  value       = aws_s3_bucket.tesslate_projects.id
}

output "s3_bucket_arn" {
  description = "Project bucket ARN"
  value       = aws_s3_bucket.tesslate_projects.arn
}

output "s3_bucket_region" {
  description = "Project bucket region"
  value       = aws_s3_bucket.tesslate_projects.region
}

output "btrfs_snapshots_bucket_name" {
  description = "btrfs snapshot bucket"
  value       = aws_s3_bucket.btrfs_snapshots.id
}

output "btrfs_snapshots_bucket_arn" {
  description = "btrfs snapshot bucket ARN"
  value       = aws_s3_bucket.btrfs_snapshots.arn
}

output "btrfs_csi_role_arn" {
  description = "IRSA role of tesslate-btrfs-csi-node"
  value       = module.btrfs_csi_irsa.iam_role_arn
}

output "ecr_registry_url" {
  description = "ECR registry host"
  value       = local.ecr_registry_url
}

output "ecr_backend_repository_url" {
  description = "Backend repository"
  value       = local.ecr_backend_url
}

output "ecr_frontend_repository_url" {
  description = "Frontend repository"
  value       = local.ecr_frontend_url
}

output "ecr_devserver_repository_url" {
  description = "Devserver repository"
  value       = local.ecr_devserver_url
}

output "ecr_ast_repository_url" {
  description = "AST sidecar repository"
  value       = local.ecr_ast_url
}

output "image_tag" {
  description = "Image tag of the environment"
  value       = local.image_tag
}

output "backend_image" {
  description = "Backend image (repository:tag)"
  value       = "${local.ecr_backend_url}:${local.image_tag}"
}

output "frontend_image" {
  description = "Frontend image (repository:tag)"
  value       = "${local.ecr_frontend_url}:${local.image_tag}"
}

output "devserver_image" {
  description = "Devserver image (repository:tag)"
  value       = "${local.ecr_devserver_url}:${local.image_tag}"
}

output "ast_image" {
  description = "AST sidecar image (repository:tag)"
  value       = "${local.ecr_ast_url}:${local.image_tag}"
}

output "tesslate_backend_role_arn" {
  description = "IRSA role of tesslate-backend-sa"
  value       = module.tesslate_backend_irsa.iam_role_arn
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role of cluster-autoscaler"
  value       = module.cluster_autoscaler_irsa.iam_role_arn
}

output "external_dns_role_arn" {
  description = "IRSA role of external-dns"
  value       = module.external_dns_irsa.iam_role_arn
}

output "cert_manager_role_arn" {
  description = "IRSA role of cert-manager"
  value       = module.cert_manager_irsa.iam_role_arn
}

output "github_actions_access_key_id" {
  description = "Access key id of the legacy CI user (empty without create_github_actions_user)"
  value       = try(aws_iam_access_key.github_actions[0].id, "")
}

output "github_actions_secret_access_key" {
  description = "Secret key of the legacy CI user"
  value       = try(aws_iam_access_key.github_actions[0].secret, "")
  sensitive   = true
}

output "github_deploy_role_arn" {
  description = "Role of deploy.yml's deploy job: the GitHub environment's variable AWS_DEPLOY_ROLE_ARN (null without github_repository)"
  value       = module.github_deploy_role.arn
}

output "github_build_role_arn" {
  description = "Role of deploy.yml's build job: the repository variable AWS_BUILD_ROLE_ARN_<ENV> (null without github_repository)"
  value       = module.github_build_role.arn
}

output "rds_endpoint" {
  description = "App database endpoint"
  value       = var.create_rds ? aws_db_instance.tesslate[0].endpoint : "Using K8s-managed PostgreSQL"
}

output "rds_database_name" {
  description = "App database name"
  value       = var.create_rds ? aws_db_instance.tesslate[0].db_name : "tesslate"
}

output "rds_port" {
  description = "App database port"
  value       = var.create_rds ? aws_db_instance.tesslate[0].port : 5432
}

output "rds_security_group_id" {
  description = "App database security group"
  value       = var.create_rds ? aws_security_group.rds[0].id : "N/A"
}

output "litellm_rds_endpoint" {
  description = "LiteLLM database endpoint"
  value       = var.litellm_create_rds ? aws_db_instance.litellm[0].endpoint : "Using K8s-managed PostgreSQL"
}

output "litellm_internal_url" {
  description = "LiteLLM inside the cluster"
  value       = "http://litellm-service.tesslate.svc.cluster.local:4000"
}

output "litellm_public_url" {
  description = "LiteLLM's public URL, when exposed"
  value       = var.litellm_public_access ? "https://litellm.${var.domain_name}" : "Not exposed publicly"
}

output "redis_endpoint" {
  description = "Redis endpoint"
  value       = var.create_elasticache ? aws_elasticache_replication_group.redis[0].primary_endpoint_address : "Using K8s-managed Redis"
}

output "redis_port" {
  description = "Redis port"
  value       = 6379
}

output "redis_url" {
  description = "Redis URL the app uses"
  value       = var.create_elasticache ? "redis://${aws_elasticache_replication_group.redis[0].primary_endpoint_address}:6379/0" : "redis://redis:6379/0"
}

output "configure_kubectl_command" {
  description = "kubectl context for this cluster"
  value       = "aws eks update-kubeconfig --name ${module.eks.cluster_name} --region ${var.aws_region}"
}

output "ecr_login_command" {
  description = "docker login to ECR"
  value       = "aws ecr get-login-password --region ${var.aws_region} | docker login --username AWS --password-stdin ${local.ecr_registry_url}"
}

output "build_and_push_commands" {
  description = "Manual image builds (the pipeline's BuildImages replaces them)"
  value       = <<-EOT
    # Backend
    docker build -t ${local.ecr_backend_url}:${local.image_tag} -f orchestrator/Dockerfile orchestrator/
    docker push ${local.ecr_backend_url}:${local.image_tag}

    # Frontend
    docker build -t ${local.ecr_frontend_url}:${local.image_tag} -f app/Dockerfile.prod app/
    docker push ${local.ecr_frontend_url}:${local.image_tag}

    # Devserver
    docker build -t ${local.ecr_devserver_url}:${local.image_tag} -f orchestrator/Dockerfile.devserver orchestrator/
    docker push ${local.ecr_devserver_url}:${local.image_tag}

    # AST sidecar
    docker build -t ${local.ecr_ast_url}:${local.image_tag} -f services/ast/Dockerfile services/ast/
    docker push ${local.ecr_ast_url}:${local.image_tag}
  EOT
}

output "domain_configuration" {
  description = "The environment's URLs"
  value = {
    main_domain     = var.domain_name
    wildcard_domain = "*.${var.domain_name}"
    app_url         = "https://${var.domain_name}"
    project_urls    = "https://<project>-<container>.${var.domain_name}"
  }
}
