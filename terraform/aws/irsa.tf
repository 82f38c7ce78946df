# IAM roles for service accounts: each trusts one service account through the cluster's OIDC provider.
# Module: terraform-aws-modules/iam v5 (newest of the live constraint ~> 5.30); v6 is a planned upgrade.

module "vpc_cni_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name             = "${local.cluster_name}-vpc-cni"
  attach_vpc_cni_policy = true
  vpc_cni_enable_ipv4   = true

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:aws-node"]
    }
  }

  tags = local.common_tags
}

module "ebs_csi_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name             = "${local.cluster_name}-ebs-csi"
  attach_ebs_csi_policy = true

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:ebs-csi-controller-sa"]
    }
  }

  role_policy_arns = {
    ebs_snapshot = aws_iam_policy.ebs_snapshot_policy.arn
  }

  tags = local.common_tags
}

# tesslate-backend-sa: the backend, worker and marketplace pods (project, bundle buckets; ECR pulls).
module "tesslate_backend_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name = "${local.cluster_name}-tesslate-backend"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["tesslate:tesslate-backend-sa"]
    }
  }

  role_policy_arns = {
    s3_policy             = aws_iam_policy.tesslate_s3_access.arn
    ecr_policy            = aws_iam_policy.tesslate_ecr_access.arn
    marketplace_s3_policy = aws_iam_policy.tesslate_marketplace_s3_access.arn
  }

  tags = local.common_tags
}

resource "aws_iam_policy" "tesslate_s3_access" {
  name        = "${local.cluster_name}-tesslate-s3-access"
  description = "Policy for Tesslate backend to access S3 for project hibernation"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:ListBucket",
          "s3:GetBucketLocation"
        ]
        Resource = [
          aws_s3_bucket.tesslate_projects.arn,
          "${aws_s3_bucket.tesslate_projects.arn}/*"
        ]
      }
    ]
  })

  tags = local.common_tags
}

resource "aws_iam_policy" "tesslate_marketplace_s3_access" {
  name        = "${local.cluster_name}-tesslate-marketplace-s3-access"
  description = "Marketplace bundle archive read/write on the dedicated S3 bucket"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:ListBucket",
          "s3:GetBucketLocation",
        ]
        Resource = [
          aws_s3_bucket.tesslate_marketplace_bundles.arn,
          "${aws_s3_bucket.tesslate_marketplace_bundles.arn}/*",
        ]
      }
    ]
  })

  tags = local.common_tags
}

resource "aws_iam_policy" "tesslate_ecr_access" {
  name        = "${local.cluster_name}-tesslate-ecr-access"
  description = "Policy for Tesslate backend to pull ECR images"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = [
          "ecr:GetAuthorizationToken",
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage"
        ]
        Resource = "*"
      }
    ]
  })

  tags = local.common_tags
}

# The btrfs CSI node plugin and the Volume Hub share the snapshot bucket's policy.
module "btrfs_csi_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name = "${local.cluster_name}-btrfs-csi"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:tesslate-btrfs-csi-node"]
    }
  }

  role_policy_arns = {
    s3_policy = aws_iam_policy.btrfs_csi_s3_access.arn
  }

  tags = local.common_tags
}

module "volume_hub_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name = "${local.cluster_name}-volume-hub"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:tesslate-volume-hub"]
    }
  }

  role_policy_arns = {
    s3_policy = aws_iam_policy.btrfs_csi_s3_access.arn
  }

  tags = local.common_tags
}

resource "aws_iam_policy" "btrfs_csi_s3_access" {
  name        = "${local.cluster_name}-btrfs-csi-s3-access"
  description = "Policy for btrfs CSI driver to sync/restore volume snapshots to S3"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:ListBucket",
          "s3:GetBucketLocation",
          "s3:ListMultipartUploadParts",
          "s3:AbortMultipartUpload"
        ]
        Resource = [
          aws_s3_bucket.btrfs_snapshots.arn,
          "${aws_s3_bucket.btrfs_snapshots.arn}/*"
        ]
      }
    ]
  })

  tags = local.common_tags
}

# Cloudflare does the DNS work for external-dns and cert-manager; their roles carry no policy.
module "external_dns_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name = "${local.cluster_name}-external-dns"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["external-dns:external-dns"]
    }
  }

  tags = local.common_tags
}

module "cert_manager_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name = "${local.cluster_name}-cert-manager"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["cert-manager:cert-manager"]
    }
  }

  tags = local.common_tags
}

module "cluster_autoscaler_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name                        = "${local.cluster_name}-cluster-autoscaler"
  attach_cluster_autoscaler_policy = true
  cluster_autoscaler_cluster_names = [local.cluster_name]

  oidc_providers = {
    main = {
      provider_arn = module.eks.oidc_provider_arn
      # The chart names its service account <release>-aws-cluster-autoscaler.
      namespace_service_accounts = ["kube-system:cluster-autoscaler-aws-cluster-autoscaler"]
    }
  }

  tags = local.common_tags
}

# Prepared for the AWS Load Balancer Controller (not installed; ingress-nginx serves the NLB).
module "lb_controller_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name                              = "${local.cluster_name}-lb-controller"
  attach_load_balancer_controller_policy = true

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:aws-load-balancer-controller"]
    }
  }

  tags = local.common_tags
}
