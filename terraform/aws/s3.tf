# User project files and btrfs snapshots (prefix snapshots/).
resource "aws_s3_bucket" "projects" {
  bucket = "${var.project_name}-${var.environment}-projects-${local.account_id}"
}

resource "aws_s3_bucket_versioning" "projects" {
  bucket = aws_s3_bucket.projects.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "projects" {
  bucket = aws_s3_bucket.projects.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "projects" {
  bucket = aws_s3_bucket.projects.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "projects" {
  bucket = aws_s3_bucket.projects.id

  rule {
    id     = "expire-old-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}
