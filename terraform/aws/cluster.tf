module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "20.37.2" # newest of the live constraint ~> 20.0; v21 is a planned upgrade

  cluster_name    = local.cluster_name
  cluster_version = var.eks_cluster_version

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  cluster_endpoint_public_access  = true
  cluster_endpoint_private_access = true

  enable_irsa = true

  cluster_addons = {
    coredns = {
      most_recent = true
      configuration_values = jsonencode({
        computeType  = "Fargate"
        replicaCount = var.coredns_replicas
      })
    }
    kube-proxy = {
      most_recent = true
    }
    vpc-cni = {
      most_recent              = true
      before_compute           = true
      service_account_role_arn = module.vpc_cni_irsa.iam_role_arn
      configuration_values = jsonencode({
        env = {
          ENABLE_PREFIX_DELEGATION = "true"
          WARM_PREFIX_TARGET       = "1"
        }
      })
    }
    aws-ebs-csi-driver = {
      most_recent              = true
      service_account_role_arn = module.ebs_csi_irsa.iam_role_arn
    }
  }

  eks_managed_node_groups = {
    # On-demand nodes for the platform's own workloads.
    primary = {
      name            = "tess-${var.environment}-primary"
      use_name_prefix = false

      subnet_ids     = local.node_subnet_ids
      instance_types = var.eks_node_instance_types
      capacity_type  = "ON_DEMAND"

      min_size     = var.eks_node_min_size
      max_size     = var.eks_node_max_size
      desired_size = var.eks_node_desired_size

      # With a launch template EKS ignores disk_size: the root volume is sized here.
      block_device_mappings = {
        xvda = {
          device_name = "/dev/xvda"
          ebs = {
            volume_size           = var.eks_node_disk_size
            volume_type           = "gp3"
            encrypted             = true
            delete_on_termination = true
          }
        }
      }

      ami_type = "AL2023_x86_64_STANDARD"

      iam_role_name            = "tess-${var.environment}-primary-node"
      iam_role_use_name_prefix = false

      # IMDSv2 only, one hop: pods (a second hop) cannot read the node's credentials.
      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }

      labels = {
        role        = "primary"
        environment = var.environment
      }

      tags = {
        "k8s.io/cluster-autoscaler/enabled"               = "true"
        "k8s.io/cluster-autoscaler/${local.cluster_name}" = "owned"
      }
    }

    # Spot nodes for user projects, tainted so that only pods that tolerate it land there.
    spot = {
      name            = "tess-${var.environment}-spot"
      use_name_prefix = false

      subnet_ids     = local.node_subnet_ids
      instance_types = ["t3.large", "t3.xlarge", "t3a.large", "t3a.xlarge"]
      capacity_type  = "SPOT"

      min_size     = 0
      max_size     = var.eks_spot_max_size
      desired_size = var.eks_spot_desired_size

      block_device_mappings = {
        xvda = {
          device_name = "/dev/xvda"
          ebs = {
            volume_size           = var.eks_node_disk_size
            volume_type           = "gp3"
            encrypted             = true
            delete_on_termination = true
          }
        }
      }

      ami_type = "AL2023_x86_64_STANDARD"

      iam_role_name            = "tess-${var.environment}-spot-node"
      iam_role_use_name_prefix = false

      labels = {
        role                        = "spot"
        environment                 = var.environment
        "tesslate.io/workload-type" = "user-project"
      }

      metadata_options = {
        http_endpoint               = "enabled"
        http_tokens                 = "required"
        http_put_response_hop_limit = 1
      }

      taints = [
        {
          key    = "tesslate.io/spot"
          value  = "true"
          effect = "PREFER_NO_SCHEDULE"
        }
      ]

      tags = {
        "k8s.io/cluster-autoscaler/enabled"               = "true"
        "k8s.io/cluster-autoscaler/${local.cluster_name}" = "owned"
      }
    }
  }

  # Access comes from the entries below only, not from whoever created the cluster.
  enable_cluster_creator_admin_permissions = false

  access_entries = merge(
    {
      eks_deployer_role = {
        principal_arn = aws_iam_role.eks_deployer.arn
        policy_associations = {
          admin = {
            policy_arn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
            access_scope = {
              type = "cluster"
            }
          }
        }
      }
      # The IAM user the stack was bootstrapped with (the public source redacts its name).
      terraform_user = {
        principal_arn = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:user/${var.terraform_iam_user}"
        policy_associations = {
          admin = {
            policy_arn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
            access_scope = {
              type = "cluster"
            }
          }
        }
      }
    },
    var.create_github_actions_user ? {
      github_actions = {
        principal_arn = aws_iam_user.github_actions[0].arn
        policy_associations = {
          admin = {
            policy_arn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
            access_scope = {
              type = "cluster"
            }
          }
        }
      }
    } : {},
    # Team roles: Kubernetes groups bound by the overlays' team RBAC; the admin role is cluster admin.
    {
      team_deployer = {
        principal_arn     = aws_iam_role.team_deployer.arn
        kubernetes_groups = ["tesslate:observers", "tesslate:deployers"]
      }
      team_observer = {
        principal_arn     = aws_iam_role.team_observer.arn
        kubernetes_groups = ["tesslate:observers"]
      }
      team_debugger = {
        principal_arn     = aws_iam_role.team_debugger.arn
        kubernetes_groups = ["tesslate:observers", "tesslate:deployers", "tesslate:debuggers"]
      }
      team_admin = {
        principal_arn = aws_iam_role.team_admin.arn
        policy_associations = {
          admin = {
            policy_arn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
            access_scope = {
              type = "cluster"
            }
          }
        }
      }
    },
  )

  # Pod-to-pod traffic across nodes (network policies decide the rest).
  node_security_group_additional_rules = {
    ingress_vpc_all = {
      type        = "ingress"
      protocol    = "-1"
      from_port   = 0
      to_port     = 0
      cidr_blocks = [var.vpc_cidr]
      description = "Allow all ingress from VPC CIDR for pod-to-pod traffic"
    }
    egress_all = {
      type        = "egress"
      protocol    = "-1"
      from_port   = 0
      to_port     = 0
      cidr_blocks = ["0.0.0.0/0"]
      description = "Allow all egress"
    }
  }

  tags = local.common_tags
}

# Snapshot rights for the EBS CSI driver (VolumeSnapshots of project volumes).
resource "aws_iam_policy" "ebs_snapshot_policy" {
  name        = "${local.cluster_name}-ebs-snapshot"
  description = "Policy for EBS CSI driver to manage EBS snapshots for project hibernation"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = [
          "ec2:CreateSnapshot",
          "ec2:DeleteSnapshot",
          "ec2:DescribeSnapshots",
          "ec2:DescribeVolumes",
          "ec2:CreateTags"
        ]
        Resource = "*"
      }
    ]
  })

  tags = local.common_tags
}

# The block storage class the platform's volumes use (not the cluster default).
resource "kubernetes_storage_class" "gp3" {
  metadata {
    name = "tesslate-block-storage"
    annotations = {
      "storageclass.kubernetes.io/is-default-class" = "false"
    }
    labels = {
      "app.kubernetes.io/name"    = "tesslate"
      "app.kubernetes.io/part-of" = "tesslate-studio"
    }
  }

  storage_provisioner    = "ebs.csi.aws.com"
  reclaim_policy         = "Delete"
  volume_binding_mode    = "WaitForFirstConsumer"
  allow_volume_expansion = true

  parameters = {
    type      = "gp3"
    fsType    = "ext4"
    encrypted = "true"
  }

  lifecycle {
    ignore_changes = [metadata[0].labels]
  }

  depends_on = [module.eks]
}

# Snapshots outlive their VolumeSnapshotContent (Retain): a deleted project stays recoverable.
resource "kubectl_manifest" "ebs_snapshot_class" {
  yaml_body = <<-YAML
    apiVersion: snapshot.storage.k8s.io/v1
    kind: VolumeSnapshotClass
    metadata:
      name: tesslate-ebs-snapshots
      labels:
        app.kubernetes.io/name: tesslate
        app.kubernetes.io/part-of: tesslate-studio
    driver: ebs.csi.aws.com
    deletionPolicy: Retain
  YAML

  depends_on = [
    module.eks,
    helm_release.snapshot_controller,
  ]
}
