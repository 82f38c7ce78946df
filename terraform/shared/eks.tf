# tesslate-platform-eks: small cluster for internal tools (Headscale). Not a deploy target of the pipeline.
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  name               = local.cluster_name
  kubernetes_version = var.eks_cluster_version

  vpc_id                 = module.vpc.vpc_id
  subnet_ids             = module.vpc.private_subnets
  endpoint_public_access = true

  enable_irsa                              = true
  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = false

  addons = {
    vpc-cni = {
      before_compute = true
    }
    kube-proxy = {}
    coredns    = {}
  }

  eks_managed_node_groups = {
    platform = {
      name            = "tess-platform"
      use_name_prefix = false
      instance_types  = ["t3.medium"]
      ami_type        = "AL2023_x86_64_STANDARD"
      min_size        = 1
      max_size        = 2
      desired_size    = 1
      block_device_mappings = {
        root = {
          device_name = "/dev/xvda"
          ebs = {
            volume_size           = 30
            volume_type           = "gp3"
            encrypted             = true
            delete_on_termination = true
          }
        }
      }
      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }
    }
  }

  access_entries = merge(
    {
      eks_deployer = {
        principal_arn = module.eks_deployer_role.arn
        policy_associations = {
          admin = {
            policy_arn   = local.cluster_admin_policy
            access_scope = { type = "cluster" }
          }
        }
      }
    },
    {
      for index, arn in var.eks_admin_iam_arns : "admin_${index}" => {
        principal_arn = arn
        policy_associations = {
          admin = {
            policy_arn   = local.cluster_admin_policy
            access_scope = { type = "cluster" }
          }
        }
      } if !endswith(arn, ":root")
    }
  )
}

module "eks_deployer_role" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role"
  version = "6.5.0"

  name            = "${local.cluster_name}-eks-deployer"
  use_name_prefix = false
  description     = "Administers ${local.cluster_name}; assumable by eks_admin_iam_arns."

  trust_policy_permissions = {
    admins = {
      actions = ["sts:AssumeRole", "sts:TagSession"]
      principals = [{
        type        = "AWS"
        identifiers = var.eks_admin_iam_arns
      }]
    }
  }
}
