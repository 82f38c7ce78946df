# Every variable of the live stack is declared with its type, default and sensitivity: the environments'
# tfvars (Secrets Manager tesslate/terraform/<env>) keep planning. New ones have defaults.

# ── Where and what ──

variable "project_name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "tesslate"
}

variable "environment" {
  description = "beta or production. The default is the live stack's; the pipeline refuses tfvars that name another environment than the run's."
  type        = string
  default     = "production"
  validation {
    condition     = contains(["beta", "production"], var.environment)
    error_message = "environment must be \"beta\" or \"production\" (it names the state key, the cluster and every resource)."
  }
}

variable "aws_region" {
  description = "Region of the environment."
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

variable "image_tag" {
  description = "Tag of the platform images in the config maps; empty means the environment name."
  type        = string
  default     = ""
}


# ── Domain and DNS ──

variable "domain_name" {
  description = "The environment's domain (the app, the API and *.domain for projects)."
  type        = string
}

variable "wildcard_domain" {
  description = "Unused; declared because existing tfvars set it."
  type        = string
  default     = ""
}

variable "cloudflare_api_token" {
  description = "Cloudflare token for DNS records, cert-manager and external-dns."
  type        = string
  sensitive   = true
}

variable "cloudflare_zone_id" {
  description = "Cloudflare zone of the domain; empty: no DNS records."
  type        = string
  default     = ""
}

variable "cloudflare_zone_name" {
  description = "Cloudflare zone name when the domain is a subdomain of it (e.g. tesslate.com); empty: the domain."
  type        = string
  default     = ""
}


# ── Network ──

variable "vpc_cidr" {
  description = "VPC range; the subnets are /20s of it."
  type        = string
  default     = "10.0.0.0/16"
}

variable "enable_nat_gateway" {
  description = "NAT for the private subnets."
  type        = bool
  default     = true
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs instead of one per AZ."
  type        = bool
  default     = true
}


# ── Cluster ──

variable "eks_cluster_version" {
  description = "Kubernetes version of the EKS cluster."
  type        = string
  default     = "1.35"
}

variable "eks_node_instance_types" {
  description = "Instance types of the primary node group."
  type        = list(string)
  default     = ["t3.large"]
}

variable "eks_node_desired_size" {
  description = "Primary node group: desired nodes."
  type        = number
  default     = 2
}

variable "eks_node_min_size" {
  description = "Primary node group: minimum nodes."
  type        = number
  default     = 1
}

variable "eks_node_max_size" {
  description = "Primary node group: maximum nodes."
  type        = number
  default     = 5
}

variable "eks_node_disk_size" {
  description = "Root volume size (GiB) of every node."
  type        = number
  default     = 50
}

variable "eks_node_azs" {
  description = "Limit the node groups to these AZs; empty: all three."
  type        = list(string)
  default     = []
}

variable "eks_spot_desired_size" {
  description = "Spot node group: desired nodes (0 leaves it empty)."
  type        = number
  default     = 1
}

variable "eks_spot_max_size" {
  description = "Spot node group: maximum nodes."
  type        = number
  default     = 10
}

variable "coredns_replicas" {
  description = "CoreDNS replicas."
  type        = number
  default     = 2
}

variable "nginx_ingress_replicas" {
  description = "ingress-nginx controller replicas."
  type        = number
  default     = 2
}

variable "eks_addon_versions" {
  description = "Unused; declared because existing tfvars may set it."
  type        = map(string)
  default     = {}
}

variable "additional_node_groups" {
  description = "Unused; declared because existing tfvars may set it."
  type = map(object({
    instance_types = list(string)
    desired_size   = number
    min_size       = number
    max_size       = number
    disk_size      = number
    labels         = map(string)
    taints = list(object({
      key    = string
      value  = string
      effect = string
    }))
  }))
  default = {}
}

variable "eks_admin_iam_arns" {
  description = "IAM users or roles that may assume the eks-deployer role (cluster admin; Terraform reaches the cluster as that role)."
  type        = list(string)
  default     = []
  validation {
    condition     = length(var.eks_admin_iam_arns) > 0
    error_message = "eks_admin_iam_arns must contain at least one IAM ARN. The eks-deployer role trust policy cannot be empty."
  }
}

variable "terraform_iam_user" {
  description = "The IAM user the live stack gives a cluster access entry (terraform_user) and whose <name>-locks table the CI and admin policies name. The public source redacts it; if a plan replaces module.eks's terraform_user access entry, set the real name in the tfvars."
  type        = string
  default     = "tesslate-terraform"
}

variable "terraform_state_bucket" {
  description = "The Terraform state bucket named in the CI and admin policies. The pipeline sets it from its environment table (--state-bucket), the bucket its backend files use."
  type        = string
  default     = "tesslate-terraform-state"
}


# ── Feature switches ──

variable "enable_cluster_autoscaler" {
  description = "Install cluster-autoscaler."
  type        = bool
  default     = true
}

variable "enable_metrics_server" {
  description = "Install metrics-server (HPA)."
  type        = bool
  default     = true
}

variable "enable_external_dns" {
  description = "Install external-dns (Cloudflare records for the tesslate namespace)."
  type        = bool
  default     = true
}

variable "enable_cert_manager" {
  description = "Install cert-manager, the issuers, reflector, the wildcard certificate and the certificate monitor."
  type        = bool
  default     = true
}

variable "cert_alert_webhook_url" {
  description = "Slack-compatible webhook for the certificate monitor; empty: log only."
  type        = string
  default     = ""
  sensitive   = true
}


# ── Storage and databases ──

variable "s3_bucket_prefix" {
  description = "Prefix of the project bucket's name."
  type        = string
  default     = "tesslate-projects"
}

variable "s3_force_destroy" {
  description = "Let Terraform delete non-empty buckets (tests only)."
  type        = bool
  default     = false
}

variable "create_rds" {
  description = "The app's PostgreSQL on RDS (overlay: k8s/components/external-postgres) instead of in the cluster."
  type        = bool
  default     = false
}

variable "rds_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.small"
}

variable "rds_allocated_storage" {
  description = "RDS storage (GiB); autoscaling up to twice this."
  type        = number
  default     = 20
}

variable "rds_database_name" {
  description = "RDS database name."
  type        = string
  default     = "tesslate"
}

variable "rds_username" {
  description = "RDS master user."
  type        = string
  default     = "tesslate_admin"
}

variable "create_elasticache" {
  description = "Redis on ElastiCache instead of in the cluster."
  type        = bool
  default     = false
}

variable "elasticache_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"
}


# ── Application secrets and settings (tesslate-app-secrets and friends) ──

variable "postgres_password" {
  description = "PostgreSQL password of the app (RDS or in-cluster)."
  type        = string
  sensitive   = true
}

variable "app_secret_key" {
  description = "The app's signing key (JWT)."
  type        = string
  sensitive   = true
}

variable "internal_api_secret" {
  description = "Shared secret of the /api/internal endpoints (Volume Hub, btrfs CSI)."
  type        = string
  sensitive   = true
}

variable "posthog_host" {
  description = "PostHog host for the frontend."
  type        = string
  default     = "https://app.posthog.com"
}

variable "posthog_key" {
  description = "PostHog project key."
  type        = string
  default     = ""
  sensitive   = true
}

variable "google_client_id" {
  description = "Google OAuth client id."
  type        = string
  default     = ""
}

variable "google_client_secret" {
  description = "Google OAuth client secret."
  type        = string
  default     = ""
  sensitive   = true
}

variable "google_oauth_enabled" {
  description = "Offer Google sign-in."
  type        = bool
  default     = false
}

variable "github_client_id" {
  description = "GitHub OAuth client id (sign-in)."
  type        = string
  default     = ""
}

variable "github_client_secret" {
  description = "GitHub OAuth client secret."
  type        = string
  default     = ""
  sensitive   = true
}

variable "github_oauth_enabled" {
  description = "Offer GitHub sign-in."
  type        = bool
  default     = false
}

variable "stripe_secret_key" {
  description = "Stripe secret key."
  type        = string
  default     = ""
  sensitive   = true
}

variable "stripe_webhook_secret" {
  description = "Stripe webhook signing secret."
  type        = string
  default     = ""
  sensitive   = true
}

variable "stripe_publishable_key" {
  description = "Stripe publishable key."
  type        = string
  default     = ""
}

variable "stripe_connect_client_id" {
  description = "Stripe Connect client id (marketplace payouts)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "stripe_basic_price_id" {
  description = "Stripe price of the basic plan (monthly)."
  type        = string
  default     = ""
}

variable "stripe_pro_price_id" {
  description = "Stripe price of the pro plan (monthly)."
  type        = string
  default     = ""
}

variable "stripe_ultra_price_id" {
  description = "Stripe price of the ultra plan (monthly)."
  type        = string
  default     = ""
}

variable "stripe_basic_annual_price_id" {
  description = "Stripe price of the basic plan (annual)."
  type        = string
  default     = ""
}

variable "stripe_pro_annual_price_id" {
  description = "Stripe price of the pro plan (annual)."
  type        = string
  default     = ""
}

variable "stripe_ultra_annual_price_id" {
  description = "Stripe price of the ultra plan (annual)."
  type        = string
  default     = ""
}

variable "vercel_client_id" {
  description = "Vercel OAuth client id (deployments)."
  type        = string
  default     = ""
}

variable "vercel_client_secret" {
  description = "Vercel OAuth client secret."
  type        = string
  default     = ""
  sensitive   = true
}

variable "netlify_client_id" {
  description = "Netlify OAuth client id (deployments)."
  type        = string
  default     = ""
}

variable "netlify_client_secret" {
  description = "Netlify OAuth client secret."
  type        = string
  default     = ""
  sensitive   = true
}

variable "heroku_client_id" {
  description = "Heroku OAuth client id (deployments)."
  type        = string
  default     = ""
}

variable "heroku_client_secret" {
  description = "Heroku OAuth client secret."
  type        = string
  default     = ""
  sensitive   = true
}

variable "digitalocean_client_id" {
  description = "DigitalOcean OAuth client id (deployments)."
  type        = string
  default     = ""
}

variable "digitalocean_client_secret" {
  description = "DigitalOcean OAuth client secret."
  type        = string
  default     = ""
  sensitive   = true
}

variable "deployment_encryption_key" {
  description = "Fernet key (base64) for stored deployment tokens; empty: the app's secret key."
  type        = string
  default     = ""
  sensitive   = true
}

variable "mcp_oauth_app_github_client_id" {
  description = "GitHub OAuth app of the MCP connector: client id."
  type        = string
  default     = ""
}

variable "mcp_oauth_app_github_client_secret" {
  description = "GitHub OAuth app of the MCP connector: client secret."
  type        = string
  default     = ""
  sensitive   = true
}

variable "mcp_oauth_app_slack_client_id" {
  description = "Slack OAuth app of the MCP connector: client id."
  type        = string
  default     = ""
}

variable "mcp_oauth_app_slack_client_secret" {
  description = "Slack OAuth app of the MCP connector: client secret."
  type        = string
  default     = ""
  sensitive   = true
}

variable "kaniko_image" {
  description = "Image that builds users' containers."
  type        = string
  default     = "gcr.io/kaniko-project/executor:latest"
}

variable "container_push_timeout" {
  description = "Seconds a container export, push and deploy may take."
  type        = number
  default     = 900
}

variable "container_push_default_cpu" {
  description = "CPU of a pushed container's deployment."
  type        = string
  default     = "0.25"
}

variable "container_push_default_memory" {
  description = "Memory of a pushed container's deployment."
  type        = string
  default     = "512Mi"
}

variable "smtp_host" {
  description = "SMTP server (email, 2FA)."
  type        = string
  default     = ""
}

variable "smtp_port" {
  description = "SMTP port."
  type        = number
  default     = 587
}

variable "smtp_username" {
  description = "SMTP user."
  type        = string
  default     = ""
  sensitive   = true
}

variable "smtp_password" {
  description = "SMTP password."
  type        = string
  default     = ""
  sensitive   = true
}

variable "smtp_use_tls" {
  description = "SMTP over TLS."
  type        = bool
  default     = true
}

variable "smtp_sender_email" {
  description = "Sender address."
  type        = string
  default     = ""
}

variable "two_fa_enabled" {
  description = "Email second factor for password logins."
  type        = bool
  default     = false
}

variable "allowed_email_domains" {
  description = "Comma-separated domains allowed to sign up; empty: all."
  type        = string
  default     = ""
}

variable "blocked_email_domains" {
  description = "Comma-separated domain patterns refused at sign-up and login."
  type        = string
  default     = ""
}

variable "discord_webhook_url" {
  description = "Discord webhook for sign-up notifications; empty: none."
  type        = string
  default     = ""
  sensitive   = true
}

variable "llama_api_key" {
  description = "LLM key of the seeded apps (secret llama-api-credentials); empty: they have none."
  type        = string
  default     = ""
  sensitive   = true
}


# ── LiteLLM ──

variable "litellm_api_base" {
  description = "Unused since LiteLLM runs in the cluster; declared because existing tfvars set it."
  type        = string
  default     = ""
}

variable "litellm_master_key" {
  description = "LiteLLM master key (the backend's and LiteLLM's)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "litellm_default_models" {
  description = "Models new users get (comma-separated)."
  type        = string
  default     = "claude-sonnet-4.6,claude-opus-4.6"
}

variable "litellm_create_rds" {
  description = "LiteLLM's database on RDS instead of in the cluster."
  type        = bool
  default     = false
}

variable "litellm_rds_instance_class" {
  description = "LiteLLM RDS instance class."
  type        = string
  default     = "db.t4g.micro"
}

variable "litellm_rds_allocated_storage" {
  description = "LiteLLM RDS storage (GiB)."
  type        = number
  default     = 20
}

variable "litellm_db_password" {
  description = "Password of LiteLLM's database."
  type        = string
  default     = ""
  sensitive   = true
}

variable "litellm_image_tag" {
  description = "Tag of ghcr.io/berriai/litellm (>= v1.75.8 for Bedrock API keys)."
  type        = string
  default     = "main-v1.81.9-stable"
}

variable "litellm_public_access" {
  description = "Expose LiteLLM at litellm.<domain>."
  type        = bool
  default     = false
}

variable "bedrock_api_key" {
  description = "Bedrock API key (bearer token)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "bedrock_aws_region" {
  description = "Bedrock region."
  type        = string
  default     = "us-east-1"
}

variable "vertex_project" {
  description = "Vertex AI project."
  type        = string
  default     = ""
}

variable "vertex_location" {
  description = "Vertex AI region."
  type        = string
  default     = "us-central1"
}

variable "vertex_credentials" {
  description = "Vertex AI service account JSON, base64."
  type        = string
  default     = ""
  sensitive   = true
}

variable "nanogpt_api_key" {
  description = "NanoGPT API key."
  type        = string
  default     = ""
  sensitive   = true
}

variable "azure_api_key" {
  description = "Azure OpenAI key."
  type        = string
  default     = ""
  sensitive   = true
}

variable "azure_api_base" {
  description = "Azure OpenAI endpoint."
  type        = string
  default     = ""
}

variable "azure_api_version" {
  description = "Azure OpenAI API version."
  type        = string
  default     = "2024-12-01-preview"
}


# ── CI ──

variable "create_github_actions_user" {
  description = "The legacy CI user with static keys (old workflows); the pipeline's workflows use the OIDC roles."
  type        = bool
  default     = false
}

variable "github_repository" {
  description = "owner/name of the repository whose deploy.yml may assume this environment's deploy and build roles; empty: no roles."
  type        = string
  default     = ""
  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name (e.g. TesslateAI/tesslate-build), or empty."
  }
}
