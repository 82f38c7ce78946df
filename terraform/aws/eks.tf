module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.19.0"

  name               = local.cluster_name
  kubernetes_version = var.eks_cluster_version

  vpc_id                 = module.vpc.vpc_id
  subnet_ids             = module.vpc.private_subnets
  endpoint_public_access = true

  enabled_log_types                      = ["api", "audit", "authenticator"]
  cloudwatch_log_group_retention_in_days = 30

  enable_irsa                              = true
  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = false

  addons = {
    vpc-cni = {
      before_compute = true
    }
    kube-proxy = {}
    coredns = {
      configuration_values = jsonencode({ replicaCount = var.coredns_replicas })
    }
    aws-ebs-csi-driver = {
      service_account_role_arn = module.ebs_csi_irsa.arn
    }
  }

  eks_managed_node_groups = merge(
    {
      primary = {
        name            = "tess-${var.environment}-primary"
        use_name_prefix = false
        subnet_ids      = local.node_subnet_ids
        capacity_type   = "ON_DEMAND"
        instance_types  = var.eks_node_instance_types
        ami_type        = "AL2023_x86_64_STANDARD"
        min_size        = var.eks_node_min_size
        max_size        = var.eks_node_max_size
        desired_size    = var.eks_node_desired_size
        block_device_mappings = {
          root = {
            device_name = "/dev/xvda"
            ebs = {
              volume_size           = var.eks_node_disk_size
              volume_type           = "gp3"
              encrypted             = true
              delete_on_termination = true
            }
          }
        }
        # IMDSv2 with hop limit 1: pods cannot borrow the node role; they use IRSA.
        metadata_options = {
          http_endpoint               = "enabled"
          http_tokens                 = "required"
          http_put_response_hop_limit = 1
        }
      }
      spot = {
        name            = "tess-${var.environment}-spot"
        use_name_prefix = false
        subnet_ids      = local.node_subnet_ids
        capacity_type   = "SPOT"
        instance_types  = var.eks_spot_instance_types
        ami_type        = "AL2023_x86_64_STANDARD"
        min_size        = 0
        max_size        = var.eks_spot_max_size
        desired_size    = var.eks_spot_desired_size
        labels = {
          "tesslate.io/workload-type" = "user-project"
        }
        taints = {
          spot = {
            key    = "tesslate.io/spot"
            value  = "true"
            effect = "PREFER_NO_SCHEDULE"
          }
        }
        block_device_mappings = {
          root = {
            device_name = "/dev/xvda"
            ebs = {
              volume_size           = var.eks_node_disk_size
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
    },
    {
      for key, group in var.additional_node_groups : key => {
        name            = "tess-${var.environment}-${key}"
        use_name_prefix = false
        subnet_ids      = local.node_subnet_ids
        capacity_type   = "ON_DEMAND"
        instance_types  = group.instance_types
        ami_type        = "AL2023_x86_64_STANDARD"
        min_size        = group.min_size
        max_size        = group.max_size
        desired_size    = group.desired_size
        labels          = group.labels
        taints          = { for index, taint in group.taints : tostring(index) => taint }
        block_device_mappings = {
          root = {
            device_name = "/dev/xvda"
            ebs = {
              volume_size           = group.disk_size
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
  )

  # Team roles map to the Kubernetes groups bound in k8s/base/security/team-rbac.yaml.
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
      team_admin = {
        principal_arn = module.team_role["admin"].arn
        policy_associations = {
          admin = {
            policy_arn   = local.cluster_admin_policy
            access_scope = { type = "cluster" }
          }
        }
      }
      team_observer = {
        principal_arn     = module.team_role["observer"].arn
        kubernetes_groups = ["tesslate:observers"]
      }
      team_deployer = {
        principal_arn     = module.team_role["deployer"].arn
        kubernetes_groups = ["tesslate:observers", "tesslate:deployers"]
      }
      team_debugger = {
        principal_arn     = module.team_role["debugger"].arn
        kubernetes_groups = ["tesslate:observers", "tesslate:deployers", "tesslate:debuggers"]
      }
      github_deploy = {
        principal_arn = module.github_deploy_role.arn
        policy_associations = {
          admin = {
            policy_arn   = local.cluster_admin_policy
            access_scope = { type = "cluster" }
          }
        }
      }
    },
    # Whoever runs Terraform authenticates to the cluster as itself (providers.tf).
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
