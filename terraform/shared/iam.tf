# eks-deployer: cluster admin of the platform cluster for eks_admin_iam_arns (Terraform reaches the cluster as it).
resource "aws_iam_role" "eks_deployer" {
  name = "${local.cluster_name}-eks-deployer"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Principal = {
          AWS = var.eks_admin_iam_arns
        }
        Action = "sts:AssumeRole"
      }
    ]
  })

  tags = merge(local.common_tags, {
    Name = "${local.cluster_name}-eks-deployer"
  })
}

# IAM roles for service accounts (terraform-aws-modules/iam v5, newest of the live constraint ~> 5.30).

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

  tags = local.common_tags
}

# cert-manager solves DNS01 through Cloudflare: its role carries no policy.
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

# Headscale's Litestream sidecar replicates the SQLite database to the litestream bucket.
module "headscale_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.60.0"

  role_name = "${local.cluster_name}-headscale"

  role_policy_arns = {
    litestream = aws_iam_policy.headscale_litestream.arn
  }

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["headscale:headscale"]
    }
  }

  tags = local.common_tags
}

resource "aws_iam_policy" "headscale_litestream" {
  name        = "${local.cluster_name}-headscale-litestream"
  description = "Allow Headscale Litestream sidecar to replicate SQLite to S3"

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
        ]
        Resource = [
          aws_s3_bucket.litestream.arn,
          "${aws_s3_bucket.litestream.arn}/*",
        ]
      }
    ]
  })
}

# GitHub's OIDC provider, once per account (this stack exists once per account): the environments' deploy and
# build roles (terraform/aws, ci.tf) trust it. An account that already has one: create_github_oidc_provider = false,
# or import it (terraform/README.md).
module "github_oidc_provider" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-github-oidc-provider"
  version = "5.60.0"

  create = var.create_github_oidc_provider

  tags = local.common_tags
}
