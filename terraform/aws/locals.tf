data "aws_caller_identity" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  cluster_name = "${var.project_name}-${var.environment}-eks"
  account_id   = data.aws_caller_identity.current.account_id
  azs          = slice(sort(data.aws_availability_zones.available.names), 0, 3)

  # ECR repositories live in the shared stack; referenced by URL, not through its state.
  ecr_registry = "${local.account_id}.dkr.ecr.${var.aws_region}.amazonaws.com"

  # Node subnets: every private subnet, or only those in eks_node_azs when it is set.
  node_subnet_ids = length(var.eks_node_azs) == 0 ? module.vpc.private_subnets : [
    for index, az in local.azs : module.vpc.private_subnets[index] if contains(var.eks_node_azs, az)
  ]

  cluster_admin_policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  tags = {
    Project     = var.project_name
    Environment = var.environment
    ManagedBy   = "terraform"
  }
}
