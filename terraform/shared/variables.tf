# Every variable of the live stack, with its type, default and sensitivity: the shared tfvars
# (Secrets Manager tesslate/terraform/shared) keep planning. New ones have defaults.

variable "project_name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "tesslate"
}

variable "aws_region" {
  description = "Region of the shared resources."
  type        = string
  default     = "us-east-1"
}

variable "aws_account_id" {
  description = "The only account the aws provider may act in (allowed_account_ids). The pipeline sets it from its environment table (--aws-account-id)."
  type        = string
  default     = "859561299901"

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be a 12-digit AWS account id."
  }
}

variable "vpc_cidr" {
  description = "Range of the platform VPC."
  type        = string
  default     = "10.1.0.0/16"
}

variable "domain_name" {
  description = "Base domain of the platform tools (headscale.<domain>)."
  type        = string
  default     = "tesslate.com"
}

variable "cloudflare_api_token" {
  description = "Cloudflare token for the Headscale record and cert-manager."
  type        = string
  sensitive   = true
}

variable "cloudflare_zone_id" {
  description = "Cloudflare zone of domain_name."
  type        = string
}

variable "cloudflare_zone_name" {
  description = "Cloudflare zone name (cert-manager's DNS01 zone)."
  type        = string
  default     = "tesslate.com"
}

variable "eks_cluster_version" {
  description = "Kubernetes version of the platform cluster."
  type        = string
  default     = "1.35"
}

variable "eks_node_instance_types" {
  description = "Instance types of the platform node group."
  type        = list(string)
  default     = ["t3.medium"]
}

variable "eks_node_desired_size" {
  description = "Platform node group: desired nodes."
  type        = number
  default     = 1
}

variable "eks_node_min_size" {
  description = "Platform node group: minimum nodes."
  type        = number
  default     = 1
}

variable "eks_node_max_size" {
  description = "Platform node group: maximum nodes."
  type        = number
  default     = 2
}

variable "eks_node_disk_size" {
  description = "Root volume size (GiB) of the platform nodes."
  type        = number
  default     = 30
}

variable "eks_admin_iam_arns" {
  description = "IAM users or roles that may assume the platform cluster's eks-deployer role (Terraform reaches the cluster as that role)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.eks_admin_iam_arns) > 0
    error_message = "eks_admin_iam_arns must contain at least one IAM ARN. The eks-deployer role trust policy cannot be empty."
  }
}

variable "terraform_iam_user" {
  description = "The IAM user the live stack gives a cluster access entry (terraform_user). The public source redacts it; if a plan replaces module.eks's terraform_user access entry, set the real name in the tfvars."
  type        = string
  default     = "tesslate-terraform"
}

variable "headscale_subdomain" {
  description = "Headscale's host name under domain_name."
  type        = string
  default     = "headscale"
}

variable "headscale_image_tag" {
  description = "Headscale image tag. The database is 0.28's: keep 0.28 or newer, never older."
  type        = string
  default     = "0.28.0"
}

variable "headscale_base_domain" {
  description = "MagicDNS domain of the mesh (must differ from Headscale's own host name)."
  type        = string
  default     = "vpn.tesslate.com"
}

variable "tauri_signing_private_key" {
  description = "Minisign key of the desktop updater bundles. Not used by any resource: the tfvars secret is where it is kept and recovered from."
  type        = string
  sensitive   = true
  default     = ""
}

variable "create_github_oidc_provider" {
  description = "Create GitHub's OIDC provider for the account (the environments' deploy and build roles trust it). False when the account already has one outside this state."
  type        = bool
  default     = true
}
