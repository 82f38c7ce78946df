locals {
  team_roles = toset(["observer", "deployer", "debugger", "admin"])
  # Roles whose holders push images (legacy: deployer, debugger, admin).
  team_roles_pushing_images = toset(["deployer", "debugger", "admin"])
}

# tesslate-<env>-eks-eks-deployer: cluster admin for the people in eks_admin_iam_arns.
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

  create_inline_policy = true
  inline_policy_permissions = {
    describe_cluster = {
      actions   = ["eks:DescribeCluster"]
      resources = ["arn:aws:eks:${var.aws_region}:${local.account_id}:cluster/${local.cluster_name}"]
    }
  }
}

# tesslate-<env>-eks-team-<role>: trust the account; membership of the IAM group grants the assume.
module "team_role" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-role"
  version  = "6.5.0"
  for_each = local.team_roles

  name            = "${local.cluster_name}-team-${each.key}"
  use_name_prefix = false
  description     = "Team ${each.key} on ${local.cluster_name} (Kubernetes rights: k8s/base/security/team-rbac.yaml)."

  trust_policy_permissions = {
    account = {
      actions = ["sts:AssumeRole", "sts:TagSession"]
      principals = [{
        type        = "AWS"
        identifiers = ["arn:aws:iam::${local.account_id}:root"]
      }]
    }
  }

  create_inline_policy = true
  inline_policy_permissions = merge(
    {
      describe_cluster = {
        actions   = ["eks:DescribeCluster", "eks:ListClusters"]
        resources = ["*"]
      }
    },
    contains(local.team_roles_pushing_images, each.key) ? {
      ecr_login = {
        actions   = ["ecr:GetAuthorizationToken"]
        resources = ["*"]
      }
      ecr_push = {
        actions = [
          "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
          "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
        ]
        resources = ["arn:aws:ecr:${var.aws_region}:${local.account_id}:repository/${var.project_name}-*"]
      }
    } : {},
    each.key == "admin" ? {
      terraform_secrets = {
        actions   = ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"]
        resources = ["arn:aws:secretsmanager:${var.aws_region}:${local.account_id}:secret:${var.project_name}/*"]
      }
    } : {}
  )
}

resource "aws_iam_group" "team" {
  for_each = local.team_roles

  name = "${var.project_name}-${var.environment}-${each.key}s"
}

resource "aws_iam_group_policy" "assume_team_role" {
  for_each = local.team_roles

  name  = "${var.project_name}-${var.environment}-assume-team-${each.key}"
  group = aws_iam_group.team[each.key].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sts:AssumeRole"
      Resource = module.team_role[each.key].arn
    }]
  })
}

# IRSA: the backend (and worker, gateway, jobs) reach the project bucket as tesslate-backend-sa.
module "backend_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.5.0"

  name            = "${local.cluster_name}-backend"
  use_name_prefix = false

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["tesslate:tesslate-backend-sa"]
    }
  }

  permissions = {
    bucket = {
      actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
      resources = [aws_s3_bucket.projects.arn]
    }
    objects = {
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      resources = ["${aws_s3_bucket.projects.arn}/*"]
    }
    ecr_read = {
      actions   = ["ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }
}

# IRSA: the btrfs CSI node plugins and Volume Hub keep snapshots under snapshots/ in the same bucket.
module "btrfs_csi_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.5.0"

  name            = "${local.cluster_name}-btrfs-csi"
  use_name_prefix = false

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:tesslate-btrfs-csi-node", "kube-system:tesslate-volume-hub"]
    }
  }

  permissions = {
    bucket = {
      actions   = ["s3:ListBucket"]
      resources = [aws_s3_bucket.projects.arn]
    }
    snapshots = {
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
      resources = ["${aws_s3_bucket.projects.arn}/snapshots/*"]
    }
  }
}

module "ebs_csi_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.5.0"

  name                  = "${local.cluster_name}-ebs-csi"
  use_name_prefix       = false
  attach_ebs_csi_policy = true

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:ebs-csi-controller-sa"]
    }
  }
}

module "cluster_autoscaler_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.5.0"

  create                           = var.enable_cluster_autoscaler
  name                             = "${local.cluster_name}-cluster-autoscaler"
  use_name_prefix                  = false
  attach_cluster_autoscaler_policy = true
  cluster_autoscaler_cluster_names = [local.cluster_name]

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:cluster-autoscaler"]
    }
  }
}

# GitHub Actions: OIDC instead of the legacy static access keys. The account has one provider
# (create_github_oidc_provider in exactly one stack); the deploy role trusts only this repository's
# GitHub environment named like this stack, so beta jobs cannot assume the production role.
module "github_oidc_provider" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-oidc-provider"
  version = "6.5.0"

  create = var.create_github_oidc_provider
  url    = "https://token.actions.githubusercontent.com"
}

module "github_deploy_role" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role"
  version = "6.5.0"

  name            = "${local.cluster_name}-github-deploy"
  use_name_prefix = false
  description     = "Deploys ${var.environment} from GitHub Actions (${var.github_repository}, environment ${var.environment})."

  enable_github_oidc = true
  oidc_subjects      = ["${var.github_repository}:environment:${var.environment}"]

  # TerraformApply manages IAM, EKS and networking, which needs administrator rights; the trust
  # above (one repository, one environment, with required reviewers on production) is the boundary.
  policies = {
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
  }

  depends_on = [module.github_oidc_provider]
}
