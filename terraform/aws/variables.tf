# ---------------------------------------------------------------------------------------------
# Identity of the stack
# ---------------------------------------------------------------------------------------------

variable "environment" {
  description = "Environment this state belongs to. Must match the backend key (<environment>/terraform.tfstate)."
  type        = string

  validation {
    condition     = contains(["beta", "production"], var.environment)
    error_message = "environment must be \"beta\" or \"production\" (the shared stack lives in terraform/shared)."
  }
}

variable "project_name" {
  description = "Prefix of every resource name (cluster tesslate-<env>-eks)."
  type        = string
  default     = "tesslate"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project_name))
    error_message = "project_name must be 2-21 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "aws_region" {
  description = "AWS region of the cluster and its resources."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like us-east-1."
  }
}

variable "domain_name" {
  description = "Public domain of the environment (apex and wildcard records point at the ingress NLB)."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", var.domain_name))
    error_message = "domain_name must be a lowercase DNS name such as opensail.tesslate.com."
  }
}

variable "cloudflare_zone_id" {
  description = "Cloudflare zone that holds domain_name."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{32}$", var.cloudflare_zone_id))
    error_message = "cloudflare_zone_id must be the 32-character hexadecimal zone id."
  }
}

variable "letsencrypt_email" {
  description = "Contact address of the Let's Encrypt account used by the ClusterIssuers."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+$", var.letsencrypt_email))
    error_message = "letsencrypt_email must be an e-mail address."
  }
}

# ---------------------------------------------------------------------------------------------
# Network and cluster
# ---------------------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR of the VPC: three private /20 and three public /24 subnets are carved from it."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 16
    error_message = "vpc_cidr must be a valid IPv4 CIDR of size /16 or larger."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (cheaper) instead of one per AZ (survives an AZ outage)."
  type        = bool
  default     = true
}

variable "eks_cluster_version" {
  description = "Kubernetes version of the EKS control plane."
  type        = string
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.eks_cluster_version))
    error_message = "eks_cluster_version must look like 1.35."
  }
}

variable "eks_admin_iam_arns" {
  description = "IAM users or roles that may assume the eks-deployer role and administer the cluster (also the identities that run Terraform)."
  type        = list(string)

  validation {
    condition     = length(var.eks_admin_iam_arns) > 0
    error_message = "eks_admin_iam_arns must contain at least one IAM ARN. The eks-deployer role trust policy cannot be empty."
  }

  validation {
    condition     = alltrue([for arn in var.eks_admin_iam_arns : can(regex("^arn:aws:iam::[0-9]{12}:(user|role|root)", arn))])
    error_message = "Every eks_admin_iam_arns entry must be an IAM user or role ARN (arn:aws:iam::<account>:user/... or :role/...)."
  }
}

variable "eks_node_instance_types" {
  description = "Instance types of the on-demand node group tess-<env>-primary."
  type        = list(string)
  default     = ["t3.large"]

  validation {
    condition     = length(var.eks_node_instance_types) > 0
    error_message = "eks_node_instance_types must name at least one instance type."
  }
}

variable "eks_node_min_size" {
  description = "Minimum size of the primary node group."
  type        = number
  default     = 1
}

variable "eks_node_max_size" {
  description = "Maximum size of the primary node group."
  type        = number
  default     = 5
}

variable "eks_node_desired_size" {
  description = "Desired size of the primary node group at creation (the cluster autoscaler owns it afterwards)."
  type        = number
  default     = 2

  validation {
    condition     = var.eks_node_desired_size >= 1
    error_message = "eks_node_desired_size must be at least 1: the platform workloads run on the primary group."
  }
}

variable "eks_node_disk_size" {
  description = "Root volume size (GiB, gp3, encrypted) of every node."
  type        = number
  default     = 50

  validation {
    condition     = var.eks_node_disk_size >= 20
    error_message = "eks_node_disk_size must be at least 20 GiB (images alone need more)."
  }
}

variable "eks_node_azs" {
  description = "Restrict node groups to these availability zones; empty = all three."
  type        = list(string)
  default     = []
}

variable "eks_spot_instance_types" {
  description = "Instance types of the spot node group tess-<env>-spot (user projects)."
  type        = list(string)
  default     = ["t3.large", "t3.xlarge", "t3a.large", "t3a.xlarge"]
}

variable "eks_spot_max_size" {
  description = "Maximum size of the spot node group."
  type        = number
  default     = 10
}

variable "eks_spot_desired_size" {
  description = "Desired size of the spot node group at creation."
  type        = number
  default     = 1
}

variable "additional_node_groups" {
  description = "Extra managed node groups, named tess-<env>-<key>."
  type = map(object({
    instance_types = list(string)
    desired_size   = number
    min_size       = number
    max_size       = number
    disk_size      = optional(number, 50)
    labels         = optional(map(string), {})
    taints = optional(list(object({
      key    = string
      value  = optional(string)
      effect = string
    })), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for group in values(var.additional_node_groups) : group.min_size <= group.desired_size && group.desired_size <= group.max_size])
    error_message = "Every additional node group needs min_size <= desired_size <= max_size."
  }
}

variable "coredns_replicas" {
  description = "Replicas of the CoreDNS add-on."
  type        = number
  default     = 2
}

variable "nginx_ingress_replicas" {
  description = "Replicas of the ingress-nginx controller."
  type        = number
  default     = 2
}

# ---------------------------------------------------------------------------------------------
# Optional components
# ---------------------------------------------------------------------------------------------

variable "create_rds" {
  description = "Run the application database (and LiteLLM's) on RDS. When true the overlay of this environment must include the kustomize component k8s/components/external-postgres (aws-production does)."
  type        = bool
  default     = false
}

variable "rds_instance_class" {
  description = "RDS instance class when create_rds is true."
  type        = string
  default     = "db.t4g.medium"
}

variable "rds_allocated_storage" {
  description = "RDS storage (GiB) when create_rds is true."
  type        = number
  default     = 50
}

variable "litellm_image_tag" {
  description = "Tag of ghcr.io/berriai/litellm. An explicit release, never latest."
  type        = string
  default     = "main-v1.81.9-stable"

  validation {
    condition     = var.litellm_image_tag != "latest" && var.litellm_image_tag != ""
    error_message = "litellm_image_tag must name an explicit release, not latest."
  }
}

variable "enable_cluster_autoscaler" {
  description = "Install the cluster autoscaler Helm release."
  type        = bool
  default     = true
}

variable "enable_metrics_server" {
  description = "Install the metrics-server Helm release."
  type        = bool
  default     = true
}

variable "enable_external_dns" {
  description = "Install external-dns (Cloudflare) for the per-project records."
  type        = bool
  default     = true
}

variable "enable_cert_manager" {
  description = "Install cert-manager with the Let's Encrypt ClusterIssuers and the wildcard certificate."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------
# CI (GitHub Actions through OIDC; replaces the legacy static access keys)
# ---------------------------------------------------------------------------------------------

variable "github_repository" {
  description = "owner/name of the repository whose GitHub environment <environment> may assume the deploy role."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider. Exactly one stack per AWS account sets this (the first applied: beta)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Secrets: no defaults, supplied by the tfvars stored in Secrets Manager (tesslate/terraform/<env>)
# ---------------------------------------------------------------------------------------------

variable "cloudflare_api_token" {
  description = "Cloudflare API token with DNS edit on the zone (Terraform records, cert-manager DNS01, external-dns)."
  type        = string
  sensitive   = true
}

variable "app_secret_key" {
  description = "Backend SECRET_KEY (session and token signing)."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.app_secret_key) >= 32
    error_message = "app_secret_key must be at least 32 characters."
  }
}

variable "litellm_master_key" {
  description = "LiteLLM master key (the backend's credential for the proxy)."
  type        = string
  sensitive   = true

  validation {
    condition     = startswith(var.litellm_master_key, "sk-")
    error_message = "litellm_master_key must start with sk- (LiteLLM's key format)."
  }
}

variable "llama_api_key" {
  description = "API key stored in the llama-api-credentials secret."
  type        = string
  sensitive   = true
}

variable "posthog_key" {
  description = "PostHog project key for the frontend; empty disables analytics."
  type        = string
  sensitive   = true
}

variable "app_extra_secrets" {
  description = "Further backend environment values (OAuth client secrets, provider keys), merged into tesslate-app-secrets."
  type        = map(string)
  sensitive   = true
}
