data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

# The suffix of the three bucket names (s3.tf): created once, kept in the state; a new one would rename the buckets.
resource "random_id" "suffix" {
  byte_length = 4
}

locals {
  cluster_name = "${var.project_name}-${var.environment}-eks"
  cluster_arn  = "arn:aws:eks:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:cluster/${local.cluster_name}"

  # Three AZs, in the order the account lists them: the subnets' CIDRs follow this order.
  azs = slice(data.aws_availability_zones.available.names, 0, 3)

  # Node groups run in every private subnet, or only in those of eks_node_azs when it is set.
  node_subnet_ids = (
    length(var.eks_node_azs) > 0
    ? [for i, az in local.azs : module.vpc.private_subnets[i] if contains(var.eks_node_azs, az)]
    : module.vpc.private_subnets
  )

  # The environment name is the image tag unless image_tag says otherwise.
  image_tag = var.image_tag != "" ? var.image_tag : var.environment

  # cert-manager's DNS01 zone, and the record name inside it ("@" when the domain is the zone itself).
  cloudflare_zone_name = var.cloudflare_zone_name != "" ? var.cloudflare_zone_name : var.domain_name
  dns_subdomain = (
    local.cloudflare_zone_name == var.domain_name
    ? "@"
    : trimsuffix(trimsuffix(var.domain_name, local.cloudflare_zone_name), ".")
  )

  common_tags = {
    Project     = var.project_name
    Environment = var.environment
    Domain      = var.domain_name
  }
}

# The repositories belong to the shared stack; this stack only needs their addresses.
locals {
  ecr_registry_url    = "${data.aws_caller_identity.current.account_id}.dkr.ecr.${var.aws_region}.amazonaws.com"
  ecr_backend_url     = "${local.ecr_registry_url}/${var.project_name}-backend"
  ecr_frontend_url    = "${local.ecr_registry_url}/${var.project_name}-frontend"
  ecr_devserver_url   = "${local.ecr_registry_url}/${var.project_name}-devserver"
  ecr_ast_url         = "${local.ecr_registry_url}/${var.project_name}-ast"
  ecr_marketplace_url = "${local.ecr_registry_url}/${var.project_name}-marketplace"
}
