# The platform cluster's own VPC (no peering with the environments), one NAT gateway.
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.21.0" # newest of the live constraint ~> 5.5; v6 is a planned upgrade

  name = "${var.project_name}-platform-vpc"
  cidr = var.vpc_cidr

  azs             = local.azs
  private_subnets = [for k, v in local.azs : cidrsubnet(var.vpc_cidr, 4, k)]
  public_subnets  = [for k, v in local.azs : cidrsubnet(var.vpc_cidr, 4, k + 4)]

  enable_nat_gateway     = true
  single_nat_gateway     = true
  one_nat_gateway_per_az = false

  enable_dns_hostnames = true
  enable_dns_support   = true

  public_subnet_tags = {
    "kubernetes.io/role/elb"                      = "1"
    "kubernetes.io/cluster/${local.cluster_name}" = "shared"
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb"             = "1"
    "kubernetes.io/cluster/${local.cluster_name}" = "shared"
  }

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-platform-vpc"
  })
}
