# The environment's buckets; each name ends with random_id.suffix (locals.tf), kept in the state.

# Project archives (hibernation and restore).
resource "aws_s3_bucket" "tesslate_projects" {
  bucket        = "${var.s3_bucket_prefix}-${var.environment}-${random_id.suffix.hex}"
  force_destroy = var.s3_force_destroy

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-projects"
  })
}

resource "aws_s3_bucket_versioning" "tesslate_projects" {
  bucket = aws_s3_bucket.tesslate_projects.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "tesslate_projects" {
  bucket = aws_s3_bucket.tesslate_projects.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "tesslate_projects" {
  bucket = aws_s3_bucket.tesslate_projects.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "tesslate_projects" {
  bucket = aws_s3_bucket.tesslate_projects.id

  # Old versions go to cheaper storage, then away after a year.
  rule {
    id     = "archive-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_transition {
      noncurrent_days = 30
      storage_class   = "STANDARD_IA"
    }

    noncurrent_version_transition {
      noncurrent_days = 90
      storage_class   = "GLACIER"
    }

    noncurrent_version_expiration {
      noncurrent_days = 365
    }
  }

  rule {
    id     = "abort-incomplete-multipart"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# Browsers upload and download project files directly from the app's origins.
resource "aws_s3_bucket_cors_configuration" "tesslate_projects" {
  bucket = aws_s3_bucket.tesslate_projects.id

  cors_rule {
    allowed_headers = ["*"]
    allowed_methods = ["GET", "PUT", "POST", "DELETE", "HEAD"]
    allowed_origins = [
      "https://${var.domain_name}",
      "https://*.${var.domain_name}"
    ]
    expose_headers  = ["ETag"]
    max_age_seconds = 3600
  }
}

# TLS only.
resource "aws_s3_bucket_policy" "tesslate_projects" {
  bucket = aws_s3_bucket.tesslate_projects.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EnforceTLS"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource = [
          aws_s3_bucket.tesslate_projects.arn,
          "${aws_s3_bucket.tesslate_projects.arn}/*"
        ]
        Condition = {
          Bool = {
            "aws:SecureTransport" = "false"
          }
        }
      }
    ]
  })
}

# btrfs send streams of project volumes (the CSI driver's snapshot store).
resource "aws_s3_bucket" "btrfs_snapshots" {
  bucket        = "${var.project_name}-btrfs-snapshots-${var.environment}-${random_id.suffix.hex}"
  force_destroy = var.s3_force_destroy

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-btrfs-snapshots"
  })
}

resource "aws_s3_bucket_versioning" "btrfs_snapshots" {
  bucket = aws_s3_bucket.btrfs_snapshots.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "btrfs_snapshots" {
  bucket = aws_s3_bucket.btrfs_snapshots.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "btrfs_snapshots" {
  bucket = aws_s3_bucket.btrfs_snapshots.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "btrfs_snapshots" {
  bucket = aws_s3_bucket.btrfs_snapshots.id

  # Old versions go to cheaper storage, then away after a year.
  rule {
    id     = "archive-old-snapshots"
    status = "Enabled"

    filter {}

    noncurrent_version_transition {
      noncurrent_days = 30
      storage_class   = "STANDARD_IA"
    }

    noncurrent_version_transition {
      noncurrent_days = 90
      storage_class   = "GLACIER"
    }

    noncurrent_version_expiration {
      noncurrent_days = 365
    }
  }

  rule {
    id     = "abort-incomplete-multipart"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# TLS only.
resource "aws_s3_bucket_policy" "btrfs_snapshots" {
  bucket = aws_s3_bucket.btrfs_snapshots.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EnforceTLS"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource = [
          aws_s3_bucket.btrfs_snapshots.arn,
          "${aws_s3_bucket.btrfs_snapshots.arn}/*"
        ]
        Condition = {
          Bool = {
            "aws:SecureTransport" = "false"
          }
        }
      }
    ]
  })
}

# Marketplace bundle archives; clients download them through presigned URLs.
resource "aws_s3_bucket" "tesslate_marketplace_bundles" {
  bucket        = "${var.project_name}-marketplace-bundles-${var.environment}-${random_id.suffix.hex}"
  force_destroy = var.s3_force_destroy

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-marketplace-bundles"
  })
}

resource "aws_s3_bucket_versioning" "tesslate_marketplace_bundles" {
  bucket = aws_s3_bucket.tesslate_marketplace_bundles.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "tesslate_marketplace_bundles" {
  bucket = aws_s3_bucket.tesslate_marketplace_bundles.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "tesslate_marketplace_bundles" {
  bucket = aws_s3_bucket.tesslate_marketplace_bundles.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "tesslate_marketplace_bundles" {
  bucket = aws_s3_bucket.tesslate_marketplace_bundles.id

  # Old versions go to cheaper storage, then away after a year.
  rule {
    id     = "archive-old-bundle-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_transition {
      noncurrent_days = 30
      storage_class   = "STANDARD_IA"
    }

    noncurrent_version_transition {
      noncurrent_days = 90
      storage_class   = "GLACIER"
    }

    noncurrent_version_expiration {
      noncurrent_days = 365
    }
  }

  rule {
    id     = "abort-incomplete-multipart"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# TLS only.
resource "aws_s3_bucket_policy" "tesslate_marketplace_bundles" {
  bucket = aws_s3_bucket.tesslate_marketplace_bundles.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EnforceTLS"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource = [
          aws_s3_bucket.tesslate_marketplace_bundles.arn,
          "${aws_s3_bucket.tesslate_marketplace_bundles.arn}/*"
        ]
        Condition = {
          Bool = {
            "aws:SecureTransport" = "false"
          }
        }
      }
    ]
  })
}
