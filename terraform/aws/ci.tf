# ── The legacy CI user (create_github_actions_user): static keys for the old workflows. It stays until someone
# removes it on purpose; the pipeline's own workflows use the OIDC roles below instead.

resource "aws_iam_user" "github_actions" {
  count = var.create_github_actions_user ? 1 : 0

  name = "${var.project_name}-${var.environment}-github-actions"
  path = "/ci/"

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-github-actions"
  })
}

resource "aws_iam_access_key" "github_actions" {
  count = var.create_github_actions_user ? 1 : 0

  user = aws_iam_user.github_actions[0].name
}

resource "aws_iam_policy" "github_actions" {
  count = var.create_github_actions_user ? 1 : 0

  name        = "${var.project_name}-${var.environment}-github-actions"
  description = "Policy for GitHub Actions CI/CD deploy workflows"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ECR"
        Effect = "Allow"
        Action = [
          "ecr:GetAuthorizationToken",
          "ecr:BatchCheckLayerAvailability",
          "ecr:PutImage",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
          "ecr:DescribeRepositories",
          "ecr:ListImages",
        ]
        Resource = "*"
      },
      {
        Sid    = "EKS"
        Effect = "Allow"
        Action = [
          "eks:DescribeCluster",
          "eks:ListClusters",
        ]
        Resource = "*"
      },
      {
        Sid    = "SecretsManager"
        Effect = "Allow"
        Action = [
          "secretsmanager:GetSecretValue",
        ]
        Resource = "arn:aws:secretsmanager:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:secret:tesslate/terraform/*"
      },
      {
        Sid    = "TerraformState"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:ListBucket",
        ]
        Resource = [
          "arn:aws:s3:::${var.terraform_state_bucket}",
          "arn:aws:s3:::${var.terraform_state_bucket}/*",
        ]
      },
      {
        Sid    = "TerraformLocks"
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:DeleteItem",
        ]
        Resource = "arn:aws:dynamodb:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/${var.terraform_iam_user}-locks"
      },
      {
        Sid    = "InfraManagement"
        Effect = "Allow"
        Action = [
          "ec2:*",
          "eks:*",
          "iam:*",
          "s3:*",
          "dynamodb:*",
          "ecr:*",
          "rds:*",
          "elasticloadbalancing:*",
          "autoscaling:*",
          "logs:*",
          "kms:*",
          "ssm:GetParameter",
        ]
        Resource = "*"
      },
      {
        Sid    = "STS"
        Effect = "Allow"
        Action = [
          "sts:GetCallerIdentity",
          "sts:AssumeRole",
        ]
        Resource = "*"
      },
    ]
  })

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-github-actions"
  })
}

resource "aws_iam_user_policy_attachment" "github_actions" {
  count = var.create_github_actions_user ? 1 : 0

  user       = aws_iam_user.github_actions[0].name
  policy_arn = aws_iam_policy.github_actions[0].arn
}

# ── The pipeline's workflows (deploy.yml) through GitHub's OIDC provider (created once per account by the
# shared stack): no static keys. Both roles exist only once github_repository names the repository whose
# workflows may use them.

locals {
  github_roles = var.github_repository != ""
}

# The deploy job (GitHub environment <env>, with its reviewers): Terraform, the cluster, the release.
# Repository variable of that environment: AWS_DEPLOY_ROLE_ARN.
module "github_deploy_role" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role"
  version = "5.60.0"

  create = local.github_roles

  name        = "${local.cluster_name}-github-deploy"
  description = "Deploys ${var.environment} from GitHub Actions (${var.github_repository}, environment ${var.environment})"
  subjects    = ["${var.github_repository}:environment:${var.environment}"]

  # TerraformApply manages IAM, EKS and networking; the trust (one repository, one environment, reviewers on
  # production) is the boundary.
  policies = {
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
  }

  tags = local.common_tags
}

# The build job (no environment, so no reviewers): pushes images, nothing else.
# Repository variable: AWS_BUILD_ROLE_ARN_<ENV> (AWS_BUILD_ROLE_ARN_BETA, AWS_BUILD_ROLE_ARN_PRODUCTION).
module "github_build_role" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-github-oidc-role"
  version = "5.60.0"

  create = local.github_roles

  name        = "${local.cluster_name}-github-build"
  description = "Builds and pushes ${var.environment} images from GitHub Actions (${var.github_repository})"
  # Production images are built from main only (deploy.yml refuses production elsewhere); beta from any branch.
  subjects = var.environment == "production" ? ["${var.github_repository}:ref:refs/heads/main"] : ["${var.github_repository}:ref:refs/heads/*"]

  policies = {
    push = one(aws_iam_policy.github_build[*].arn)
  }

  tags = local.common_tags
}

resource "aws_iam_policy" "github_build" {
  count = local.github_roles ? 1 : 0

  name        = "${local.cluster_name}-github-build"
  description = "ECR login, fingerprint lookups and pushes to the tesslate repositories"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Login"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        Sid    = "PushAndLookUp"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:CompleteLayerUpload",
          "ecr:DescribeImages",
          "ecr:DescribeRepositories",
          "ecr:GetDownloadUrlForLayer",
          "ecr:InitiateLayerUpload",
          "ecr:ListImages",
          "ecr:PutImage",
          "ecr:UploadLayerPart",
        ]
        Resource = "arn:aws:ecr:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:repository/${var.project_name}-*"
      },
    ]
  })

  tags = local.common_tags
}
