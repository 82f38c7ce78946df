# One repository per catalog image, shared by beta and production (each pushes its own tags). MUTABLE: the
# environment tags (beta, production) move to what runs there; the pipeline's git-<sha> and src-<fingerprint>
# tags are never moved.

resource "aws_ecr_repository" "backend" {
  name                 = "${var.project_name}-backend"
  image_tag_mutability = "MUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = {
    Name      = "${var.project_name}-backend"
    Component = "backend"
  }
}

resource "aws_ecr_repository" "frontend" {
  name                 = "${var.project_name}-frontend"
  image_tag_mutability = "MUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = {
    Name      = "${var.project_name}-frontend"
    Component = "frontend"
  }
}

resource "aws_ecr_repository" "devserver" {
  name                 = "${var.project_name}-devserver"
  image_tag_mutability = "MUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = {
    Name      = "${var.project_name}-devserver"
    Component = "devserver"
  }
}

resource "aws_ecr_repository" "btrfs_csi" {
  name                 = "${var.project_name}-btrfs-csi"
  image_tag_mutability = "MUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = {
    Name      = "${var.project_name}-btrfs-csi"
    Component = "btrfs-csi"
  }
}

resource "aws_ecr_repository" "ast" {
  name                 = "${var.project_name}-ast"
  image_tag_mutability = "MUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = {
    Name      = "${var.project_name}-ast"
    Component = "ast"
  }
}

resource "aws_ecr_repository" "markitdown" {
  name                 = "${var.project_name}-markitdown"
  image_tag_mutability = "MUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = {
    Name      = "${var.project_name}-markitdown"
    Component = "seed-app"
  }
}

resource "aws_ecr_repository" "deerflow" {
  name                 = "${var.project_name}-deerflow"
  image_tag_mutability = "MUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = {
    Name      = "${var.project_name}-deerflow"
    Component = "seed-app"
  }
}

resource "aws_ecr_repository" "marketplace" {
  name                 = "${var.project_name}-marketplace"
  image_tag_mutability = "MUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }

  tags = {
    Name      = "${var.project_name}-marketplace"
    Component = "marketplace"
  }
}

# Every repository: at most 30 images carrying an environment or release tag, untagged images gone after a day.
# No rule selects git-* or src-* tags, so the pipeline's immutable builds are never expired (digest rollbacks).
# ECR requires the tagStatus "any"/"untagged" rule to have the highest priority number.
locals {
  ecr_lifecycle_policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Protect environment and release tags"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = ["production", "beta", "v", "release"]
          countType     = "imageCountMoreThan"
          countNumber   = 30
        }
        action = {
          type = "expire"
        }
      },
      {
        rulePriority = 2
        description  = "Remove untagged images older than 1 day"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 1
        }
        action = {
          type = "expire"
        }
      }
    ]
  })
}

resource "aws_ecr_lifecycle_policy" "backend" {
  repository = aws_ecr_repository.backend.name
  policy     = local.ecr_lifecycle_policy
}

resource "aws_ecr_lifecycle_policy" "frontend" {
  repository = aws_ecr_repository.frontend.name
  policy     = local.ecr_lifecycle_policy
}

resource "aws_ecr_lifecycle_policy" "devserver" {
  repository = aws_ecr_repository.devserver.name
  policy     = local.ecr_lifecycle_policy
}

resource "aws_ecr_lifecycle_policy" "btrfs_csi" {
  repository = aws_ecr_repository.btrfs_csi.name
  policy     = local.ecr_lifecycle_policy
}

resource "aws_ecr_lifecycle_policy" "ast" {
  repository = aws_ecr_repository.ast.name
  policy     = local.ecr_lifecycle_policy
}

resource "aws_ecr_lifecycle_policy" "markitdown" {
  repository = aws_ecr_repository.markitdown.name
  policy     = local.ecr_lifecycle_policy
}

resource "aws_ecr_lifecycle_policy" "deerflow" {
  repository = aws_ecr_repository.deerflow.name
  policy     = local.ecr_lifecycle_policy
}

resource "aws_ecr_lifecycle_policy" "marketplace" {
  repository = aws_ecr_repository.marketplace.name
  policy     = local.ecr_lifecycle_policy
}

# quay.io images through ECR (<registry>/quay/...).
resource "aws_ecr_pull_through_cache_rule" "quay" {
  ecr_repository_prefix = "quay"
  upstream_registry_url = "quay.io"
}
