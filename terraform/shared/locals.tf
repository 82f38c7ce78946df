data "aws_caller_identity" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_region" "current" {}

locals {
  # The platform cluster for internal tools (Headscale), apart from beta and production.
  cluster_name = "${var.project_name}-platform-eks"

  azs = slice(data.aws_availability_zones.available.names, 0, 3)

  common_tags = {
    Project = var.project_name
    Stack   = "shared"
  }
}
