variable "project_name" {
  description = "Prefix of every resource name (ECR repositories <project>-<image>, cluster <project>-platform-eks)."
  type        = string
  default     = "tesslate"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project_name))
    error_message = "project_name must be 2-21 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "aws_region" {
  description = "AWS region of the registry and the platform cluster."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like us-east-1."
  }
}

variable "ecr_repositories" {
  description = "Repository names of the image catalog (images/*: backend, frontend, devserver, ast, marketplace, compute, markitdown, deerflow)."
  type        = list(string)
  default = [
    "tesslate-backend",
    "tesslate-frontend",
    "tesslate-devserver",
    "tesslate-ast",
    "tesslate-marketplace",
    "tesslate-btrfs-csi",
    "tesslate-markitdown",
    "tesslate-deerflow",
  ]

  validation {
    condition     = length(var.ecr_repositories) == length(distinct(var.ecr_repositories))
    error_message = "ecr_repositories must not contain duplicates."
  }
}

variable "image_history_count" {
  description = "Images kept per repository for each immutable tag family (git-*, src-*): the rollback window."
  type        = number
  default     = 200

  validation {
    condition     = var.image_history_count >= 200
    error_message = "image_history_count must be at least 200: rollbacks need the history (legacy kept 1 day)."
  }
}

variable "untagged_image_days" {
  description = "Days an untagged image (an environment tag moved away and no immutable tag) is kept."
  type        = number
  default     = 90

  validation {
    condition     = var.untagged_image_days >= 90
    error_message = "untagged_image_days must be at least 90."
  }
}

variable "cache_tag_prefix" {
  description = "Tag prefix of the BuildKit registry cache images: BuildImages tags them buildcache (ImageTags.Cache)."
  type        = string
  default     = "buildcache"
}

variable "cache_images_kept" {
  description = "Registry cache images kept per repository."
  type        = number
  default     = 10
}

variable "vpc_cidr" {
  description = "CIDR of the platform VPC."
  type        = string
  default     = "10.1.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 16
    error_message = "vpc_cidr must be a valid IPv4 CIDR of size /16 or larger."
  }
}

variable "eks_cluster_version" {
  description = "Kubernetes version of the platform cluster."
  type        = string
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.eks_cluster_version))
    error_message = "eks_cluster_version must look like 1.35."
  }
}

variable "eks_admin_iam_arns" {
  description = "IAM users or roles that may assume tesslate-platform-eks-eks-deployer and administer the platform cluster."
  type        = list(string)

  validation {
    condition     = length(var.eks_admin_iam_arns) > 0
    error_message = "eks_admin_iam_arns must contain at least one IAM ARN. The eks-deployer role trust policy cannot be empty."
  }
}

variable "headscale_hostname" {
  description = "Public host name of Headscale."
  type        = string
  default     = "headscale.tesslate.com"
}

variable "headscale_magic_dns_domain" {
  description = "MagicDNS base domain of the tailnet."
  type        = string
  default     = "vpn.tesslate.com"
}

variable "headscale_chart_version" {
  description = "Version of the headscale chart (https://charts.gabe565.com)."
  type        = string
  default     = "0.12.5"
}

variable "cloudflare_zone_id" {
  description = "Cloudflare zone that holds headscale_hostname."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.cloudflare_zone_id))
    error_message = "cloudflare_zone_id must be the 32-character hexadecimal zone id."
  }
}

variable "letsencrypt_email" {
  description = "Contact address of the Let's Encrypt account."
  type        = string
}

variable "cloudflare_api_token" {
  description = "Cloudflare API token with DNS edit on the zone."
  type        = string
  sensitive   = true
}
