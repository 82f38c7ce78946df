data "aws_caller_identity" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  cluster_name = "${var.project_name}-platform-eks"
  account_id   = data.aws_caller_identity.current.account_id
  azs          = slice(sort(data.aws_availability_zones.available.names), 0, 3)

  cluster_admin_policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  tags = {
    Project     = var.project_name
    Environment = "shared"
    ManagedBy   = "terraform"
  }
}
