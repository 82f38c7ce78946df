# One repository per catalog image, shared by beta and production.
# MUTABLE: the environment tags (beta, production) move to the image that runs there. Deploys use
# digests and the immutable git-*/src-* tags, which the lifecycle keeps for rollbacks.
resource "aws_ecr_repository" "catalog" {
  for_each = toset(var.ecr_repositories)

  name                 = each.key
  image_tag_mutability = "MUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

resource "aws_ecr_lifecycle_policy" "catalog" {
  for_each = aws_ecr_repository.catalog

  repository = each.value.name
  # Environment tags (beta, production) match no rule, so the images running now never expire while
  # tagged. Lower-numbered rules win: an image matched by one is not expired by a later rule.
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep the last ${var.image_history_count} commit builds (git-*) for rollbacks"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = ["git-"]
          countType     = "imageCountMoreThan"
          countNumber   = var.image_history_count
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the last ${var.image_history_count} input fingerprints (src-*)"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = ["src-"]
          countType     = "imageCountMoreThan"
          countNumber   = var.image_history_count
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 3
        description  = "Keep the newest ${var.cache_images_kept} registry cache images"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = [var.cache_tag_prefix]
          countType     = "imageCountMoreThan"
          countNumber   = var.cache_images_kept
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 4
        description  = "Untagged images after ${var.untagged_image_days} days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_image_days
        }
        action = { type = "expire" }
      },
    ]
  })
}

resource "aws_ecr_pull_through_cache_rule" "quay" {
  ecr_repository_prefix = "quay"
  upstream_registry_url = "quay.io"
}
