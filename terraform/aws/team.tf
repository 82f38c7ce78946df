# Who may reach the cluster and the account, per environment: the eks-deployer role, the four team roles with
# their policies, the "assume" policies and the IAM groups that carry them (add a user to one group to onboard).

# eks-deployer: cluster admin for eks_admin_iam_arns; Terraform reaches the cluster as this role (providers.tf),
# and so does the GitHub deploy role when it exists (ci.tf).
resource "aws_iam_role" "eks_deployer" {
  name = "${local.cluster_name}-eks-deployer"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect = "Allow"
        Principal = {
          AWS = concat(var.eks_admin_iam_arns, compact([module.github_deploy_role.arn]))
        }
        Action = "sts:AssumeRole"
      }
    ]
  })

  tags = merge(local.common_tags, {
    Name = "${local.cluster_name}-eks-deployer"
  })
}

# Observer: read-only (cluster, images, logs).
resource "aws_iam_role" "team_observer" {
  name = "${local.cluster_name}-team-observer"

  # The account trusts itself; membership of tesslate-<env>-observers (below) grants the assume.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "sts:AssumeRole"
      }
    ]
  })

  tags = merge(local.common_tags, {
    Name = "${local.cluster_name}-team-observer"
  })
}

resource "aws_iam_policy" "team_observer" {
  name        = "${local.cluster_name}-team-observer"
  description = "Team observer: EKS describe + ECR browse + CloudWatch Logs read"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "EKSDescribe"
        Effect   = "Allow"
        Action   = ["eks:DescribeCluster"]
        Resource = local.cluster_arn
      },
      {
        Sid      = "EKSList"
        Effect   = "Allow"
        Action   = ["eks:ListClusters"]
        Resource = "*"
      },
      {
        Sid    = "ECRDiscover"
        Effect = "Allow"
        Action = [
          "ecr:GetAuthorizationToken",
          "ecr:DescribeRepositories",
        ]
        Resource = "*"
      },
      {
        Sid    = "ECRRead"
        Effect = "Allow"
        Action = [
          "ecr:ListImages",
          "ecr:DescribeImages",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
        ]
        Resource = "arn:aws:ecr:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:repository/tesslate-*"
      },
      {
        Sid      = "CloudWatchLogsDiscover"
        Effect   = "Allow"
        Action   = ["logs:DescribeLogGroups"]
        Resource = "*"
      },
      {
        Sid    = "CloudWatchLogsRead"
        Effect = "Allow"
        Action = [
          "logs:GetLogEvents",
          "logs:DescribeLogStreams",
          "logs:FilterLogEvents",
        ]
        Resource = "arn:aws:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/eks/${local.cluster_name}/*"
      }
    ]
  })

  tags = local.common_tags
}

resource "aws_iam_role_policy_attachment" "team_observer" {
  role       = aws_iam_role.team_observer.name
  policy_arn = aws_iam_policy.team_observer.arn
}

resource "aws_iam_policy" "assume_team_observer" {
  name        = "${local.cluster_name}-assume-team-observer"
  description = "Allows assuming the team observer role for ${local.cluster_name}"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "sts:AssumeRole"
        Resource = aws_iam_role.team_observer.arn
      }
    ]
  })

  tags = local.common_tags
}

# Deployer: observer + image pushes.
resource "aws_iam_role" "team_deployer" {
  name = "${local.cluster_name}-team-deployer"

  # The account trusts itself; membership of tesslate-<env>-deployers (below) grants the assume.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "sts:AssumeRole"
      }
    ]
  })

  tags = merge(local.common_tags, {
    Name = "${local.cluster_name}-team-deployer"
  })
}

resource "aws_iam_policy" "team_deployer" {
  name        = "${local.cluster_name}-team-deployer"
  description = "Team deployer: EKS describe + ECR push/pull/browse + CloudWatch Logs read"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "EKSDescribe"
        Effect   = "Allow"
        Action   = ["eks:DescribeCluster"]
        Resource = local.cluster_arn
      },
      {
        Sid      = "EKSList"
        Effect   = "Allow"
        Action   = ["eks:ListClusters"]
        Resource = "*"
      },
      {
        Sid    = "ECRDiscover"
        Effect = "Allow"
        Action = [
          "ecr:GetAuthorizationToken",
          "ecr:DescribeRepositories",
        ]
        Resource = "*"
      },
      {
        Sid    = "ECRPushPull"
        Effect = "Allow"
        Action = [
          "ecr:ListImages",
          "ecr:DescribeImages",
          "ecr:BatchCheckLayerAvailability",
          "ecr:PutImage",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
        ]
        Resource = "arn:aws:ecr:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:repository/tesslate-*"
      },
      {
        Sid      = "CloudWatchLogsDiscover"
        Effect   = "Allow"
        Action   = ["logs:DescribeLogGroups"]
        Resource = "*"
      },
      {
        Sid    = "CloudWatchLogsRead"
        Effect = "Allow"
        Action = [
          "logs:GetLogEvents",
          "logs:DescribeLogStreams",
          "logs:FilterLogEvents",
        ]
        Resource = "arn:aws:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/eks/${local.cluster_name}/*"
      }
    ]
  })

  tags = local.common_tags
}

resource "aws_iam_role_policy_attachment" "team_deployer" {
  role       = aws_iam_role.team_deployer.name
  policy_arn = aws_iam_policy.team_deployer.arn
}

resource "aws_iam_policy" "assume_team_deployer" {
  name        = "${local.cluster_name}-assume-team-deployer"
  description = "Allows assuming the team deployer role for ${local.cluster_name}"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "sts:AssumeRole"
        Resource = aws_iam_role.team_deployer.arn
      }
    ]
  })

  tags = local.common_tags
}

# Debugger: deployer + kubectl exec (Kubernetes group tesslate:debuggers).
resource "aws_iam_role" "team_debugger" {
  name = "${local.cluster_name}-team-debugger"

  # The account trusts itself; membership of tesslate-<env>-debuggers (below) grants the assume.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "sts:AssumeRole"
      }
    ]
  })

  tags = merge(local.common_tags, {
    Name = "${local.cluster_name}-team-debugger"
  })
}

resource "aws_iam_policy" "team_debugger" {
  name        = "${local.cluster_name}-team-debugger"
  description = "Team debugger: EKS describe + ECR push/pull/browse + CloudWatch Logs read"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "EKSDescribe"
        Effect   = "Allow"
        Action   = ["eks:DescribeCluster"]
        Resource = local.cluster_arn
      },
      {
        Sid      = "EKSList"
        Effect   = "Allow"
        Action   = ["eks:ListClusters"]
        Resource = "*"
      },
      {
        Sid    = "ECRDiscover"
        Effect = "Allow"
        Action = [
          "ecr:GetAuthorizationToken",
          "ecr:DescribeRepositories",
        ]
        Resource = "*"
      },
      {
        Sid    = "ECRPushPull"
        Effect = "Allow"
        Action = [
          "ecr:ListImages",
          "ecr:DescribeImages",
          "ecr:BatchCheckLayerAvailability",
          "ecr:PutImage",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
        ]
        Resource = "arn:aws:ecr:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:repository/tesslate-*"
      },
      {
        Sid      = "CloudWatchLogsDiscover"
        Effect   = "Allow"
        Action   = ["logs:DescribeLogGroups"]
        Resource = "*"
      },
      {
        Sid    = "CloudWatchLogsRead"
        Effect = "Allow"
        Action = [
          "logs:GetLogEvents",
          "logs:DescribeLogStreams",
          "logs:FilterLogEvents",
        ]
        Resource = "arn:aws:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/eks/${local.cluster_name}/*"
      }
    ]
  })

  tags = local.common_tags
}

resource "aws_iam_role_policy_attachment" "team_debugger" {
  role       = aws_iam_role.team_debugger.name
  policy_arn = aws_iam_policy.team_debugger.arn
}

resource "aws_iam_policy" "assume_team_debugger" {
  name        = "${local.cluster_name}-assume-team-debugger"
  description = "Allows assuming the team debugger role for ${local.cluster_name}"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "sts:AssumeRole"
        Resource = aws_iam_role.team_debugger.arn
      }
    ]
  })

  tags = local.common_tags
}

# Admin: cluster admin through its access entry, plus the platform's AWS administration.
resource "aws_iam_role" "team_admin" {
  name = "${local.cluster_name}-team-admin"

  # The account trusts itself; membership of tesslate-<env>-admins (below) grants the assume.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "sts:AssumeRole"
      }
    ]
  })

  tags = merge(local.common_tags, {
    Name = "${local.cluster_name}-team-admin"
  })
}

resource "aws_iam_policy" "team_admin" {
  name        = "${local.cluster_name}-team-admin"
  description = "Team admin: full platform admin (EKS, ECR, S3, SecretsManager, IAM team mgmt, CloudWatch)"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "EKSFull"
        Effect = "Allow"
        Action = [
          "eks:DescribeCluster",
          "eks:ListClusters",
          "eks:ListNodegroups",
          "eks:DescribeNodegroup",
          "eks:ListAddons",
          "eks:DescribeAddon",
          "eks:ListUpdates",
          "eks:DescribeUpdate",
          "eks:AccessKubernetesApi",
        ]
        Resource = "*"
      },
      {
        Sid    = "ECRDiscover"
        Effect = "Allow"
        Action = [
          "ecr:GetAuthorizationToken",
          "ecr:DescribeRepositories",
        ]
        Resource = "*"
      },
      {
        Sid    = "ECRFull"
        Effect = "Allow"
        Action = [
          "ecr:ListImages",
          "ecr:DescribeImages",
          "ecr:BatchCheckLayerAvailability",
          "ecr:PutImage",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchDeleteImage",
          "ecr:PutLifecyclePolicy",
          "ecr:GetLifecyclePolicy",
          "ecr:ListTagsForResource",
          "ecr:TagResource",
        ]
        Resource = "arn:aws:ecr:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:repository/tesslate-*"
      },
      # The state bucket's name is not public: the pipeline passes it (-var terraform_state_bucket).
      {
        Sid    = "TerraformState"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:ListBucket",
          "s3:DeleteObject",
        ]
        Resource = [
          "arn:aws:s3:::${var.terraform_state_bucket}",
          "arn:aws:s3:::${var.terraform_state_bucket}/*",
        ]
      },
      {
        Sid      = "S3List"
        Effect   = "Allow"
        Action   = ["s3:ListAllMyBuckets"]
        Resource = "*"
      },
      {
        Sid    = "TerraformLocks"
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:DeleteItem",
          "dynamodb:DescribeTable",
        ]
        Resource = "arn:aws:dynamodb:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/${var.terraform_iam_user}-locks"
      },
      {
        Sid    = "SecretsFull"
        Effect = "Allow"
        Action = [
          "secretsmanager:GetSecretValue",
          "secretsmanager:DescribeSecret",
          "secretsmanager:CreateSecret",
          "secretsmanager:UpdateSecret",
          "secretsmanager:PutSecretValue",
          "secretsmanager:DeleteSecret",
          "secretsmanager:TagResource",
        ]
        Resource = "arn:aws:secretsmanager:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:secret:tesslate/*"
      },
      {
        Sid      = "SecretsList"
        Effect   = "Allow"
        Action   = ["secretsmanager:ListSecrets"]
        Resource = "*"
      },
      {
        Sid    = "IAMTeamManage"
        Effect = "Allow"
        Action = [
          "iam:CreateUser",
          "iam:DeleteUser",
          "iam:GetUser",
          "iam:ListUsers",
          "iam:TagUser",
          "iam:CreateAccessKey",
          "iam:DeleteAccessKey",
          "iam:ListAccessKeys",
          "iam:AddUserToGroup",
          "iam:RemoveUserFromGroup",
          "iam:ListGroupsForUser",
        ]
        Resource = [
          "arn:aws:iam::${data.aws_caller_identity.current.account_id}:user/team/*",
          "arn:aws:iam::${data.aws_caller_identity.current.account_id}:group/team/*",
        ]
      },
      {
        Sid    = "IAMListGroups"
        Effect = "Allow"
        Action = [
          "iam:ListGroups",
          "iam:GetGroup",
        ]
        Resource = "*"
      },
      {
        Sid    = "EC2Read"
        Effect = "Allow"
        Action = [
          "ec2:DescribeInstances",
          "ec2:DescribeVolumes",
          "ec2:DescribeSnapshots",
          "ec2:DescribeVpcs",
          "ec2:DescribeSubnets",
          "ec2:DescribeSecurityGroups",
        ]
        Resource = "*"
      },
      {
        Sid      = "CloudWatchLogsDiscover"
        Effect   = "Allow"
        Action   = ["logs:DescribeLogGroups"]
        Resource = "*"
      },
      {
        Sid    = "CloudWatchLogsRead"
        Effect = "Allow"
        Action = [
          "logs:GetLogEvents",
          "logs:DescribeLogStreams",
          "logs:FilterLogEvents",
          "logs:GetLogRecord",
          "logs:GetQueryResults",
          "logs:StartQuery",
          "logs:StopQuery",
        ]
        Resource = "arn:aws:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/eks/${local.cluster_name}/*"
      },
      {
        Sid      = "STSIdentity"
        Effect   = "Allow"
        Action   = ["sts:GetCallerIdentity"]
        Resource = "*"
      }
    ]
  })

  tags = local.common_tags
}

resource "aws_iam_role_policy_attachment" "team_admin" {
  role       = aws_iam_role.team_admin.name
  policy_arn = aws_iam_policy.team_admin.arn
}

resource "aws_iam_policy" "assume_team_admin" {
  name        = "${local.cluster_name}-assume-team-admin"
  description = "Allows assuming the team admin role for ${local.cluster_name}"

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = "sts:AssumeRole"
        Resource = aws_iam_role.team_admin.arn
      }
    ]
  })

  tags = local.common_tags
}

# One group per role and environment, under /team/: `aws iam add-user-to-group --group-name tesslate-<env>-deployers ...`.

resource "aws_iam_group" "team_observers" {
  name = "${var.project_name}-${var.environment}-observers"
  path = "/team/"
}

resource "aws_iam_group_policy_attachment" "team_observers" {
  group      = aws_iam_group.team_observers.name
  policy_arn = aws_iam_policy.assume_team_observer.arn
}

resource "aws_iam_group" "team_deployers" {
  name = "${var.project_name}-${var.environment}-deployers"
  path = "/team/"
}

resource "aws_iam_group_policy_attachment" "team_deployers" {
  group      = aws_iam_group.team_deployers.name
  policy_arn = aws_iam_policy.assume_team_deployer.arn
}

resource "aws_iam_group" "team_debuggers" {
  name = "${var.project_name}-${var.environment}-debuggers"
  path = "/team/"
}

resource "aws_iam_group_policy_attachment" "team_debuggers" {
  group      = aws_iam_group.team_debuggers.name
  policy_arn = aws_iam_policy.assume_team_debugger.arn
}

resource "aws_iam_group" "team_admins" {
  name = "${var.project_name}-${var.environment}-admins"
  path = "/team/"
}

resource "aws_iam_group_policy_attachment" "team_admins" {
  group      = aws_iam_group.team_admins.name
  policy_arn = aws_iam_policy.assume_team_admin.arn
}
