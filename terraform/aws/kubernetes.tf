# In-cluster objects Terraform owns (k8s/ownership.yaml): they carry values only Terraform knows (role ARNs, bucket
# names, tfvars secrets, generated passwords). The overlays consume them and never render them.

# ── Priority classes (cluster-scoped): system > ephemeral > environment pods. ──

resource "kubernetes_priority_class" "system" {
  metadata {
    name = "tesslate-system"
  }

  value             = 2000
  global_default    = false
  preemption_policy = "PreemptLowerPriority"
  description       = "Tesslate system-level pods (CSI driver, Volume Hub). Never preempted."
}

resource "kubernetes_priority_class" "ephemeral" {
  metadata {
    name = "tesslate-ephemeral"
  }

  value             = 1000
  global_default    = false
  preemption_policy = "PreemptLowerPriority"
  description       = "Tesslate ephemeral pods (one-shot commands, terminal). Can preempt environment pods."
}

resource "kubernetes_priority_class" "environment" {
  metadata {
    name = "tesslate-environment"
  }

  value             = 100
  global_default    = false
  preemption_policy = "PreemptLowerPriority"
  description       = "Tesslate environment pods (dev containers, services). Lowest Tesslate priority."
}

# ── Namespace and service accounts ──

resource "kubernetes_namespace" "tesslate" {
  metadata {
    name = "tesslate"

    labels = {
      "app.kubernetes.io/name"       = "tesslate"
      "app.kubernetes.io/managed-by" = "terraform"
      "environment"                  = var.environment
    }
  }

  # The overlays label the namespace too; their labels win.
  lifecycle {
    ignore_changes = [metadata[0].labels]
  }

  depends_on = [module.eks]
}

resource "kubernetes_service_account" "tesslate_backend" {
  metadata {
    name      = "tesslate-backend-sa"
    namespace = kubernetes_namespace.tesslate.metadata[0].name

    annotations = {
      "eks.amazonaws.com/role-arn" = module.tesslate_backend_irsa.iam_role_arn
    }

    labels = {
      "app.kubernetes.io/name"      = "tesslate-backend"
      "app.kubernetes.io/component" = "backend"
    }
  }

  lifecycle {
    ignore_changes = [metadata[0].labels]
  }
}

resource "kubernetes_service_account" "btrfs_csi_node" {
  metadata {
    name      = "tesslate-btrfs-csi-node"
    namespace = "kube-system"

    annotations = {
      "eks.amazonaws.com/role-arn" = module.btrfs_csi_irsa.iam_role_arn
    }

    labels = {
      "app" = "tesslate-btrfs-csi-node"
    }
  }

  lifecycle {
    ignore_changes = [metadata[0].labels]
  }

  depends_on = [module.eks]
}

resource "kubernetes_service_account" "volume_hub" {
  metadata {
    name      = "tesslate-volume-hub"
    namespace = "kube-system"

    annotations = {
      "eks.amazonaws.com/role-arn" = module.volume_hub_irsa.iam_role_arn
    }

    labels = {
      "app.kubernetes.io/name" = "tesslate-volume-hub"
    }
  }

  lifecycle {
    ignore_changes = [metadata[0].labels]
  }

  depends_on = [module.eks]
}

# ── Secrets and config maps the workloads read ──

# The btrfs CSI driver: its snapshot bucket (IRSA credentials, hence the empty keys) and the secret it presents
# to the backend's /api/internal endpoints (the same value as INTERNAL_API_SECRET below).
resource "kubernetes_secret" "btrfs_csi_config" {
  metadata {
    name      = "tesslate-btrfs-csi-config"
    namespace = "kube-system"
  }

  data = {
    STORAGE_PROVIDER             = "s3"
    STORAGE_BUCKET               = aws_s3_bucket.btrfs_snapshots.id
    RCLONE_S3_PROVIDER           = "AWS"
    RCLONE_S3_REGION             = var.aws_region
    RCLONE_S3_ENDPOINT           = "https://s3.${var.aws_region}.amazonaws.com"
    RCLONE_S3_ACCESS_KEY_ID      = ""
    RCLONE_S3_SECRET_ACCESS_KEY  = ""
    RCLONE_S3_ENV_AUTH           = "true"
    RCLONE_S3_NO_CHECK_BUCKET    = "true"
    SYNC_INTERVAL                = "60"
    POOL_PATH                    = "/mnt/tesslate-pool"
    ORCHESTRATOR_INTERNAL_SECRET = var.internal_api_secret
  }

  type = "Opaque"

  depends_on = [module.eks]
}

resource "kubernetes_secret" "postgres" {
  metadata {
    name      = "postgres-secret"
    namespace = kubernetes_namespace.tesslate.metadata[0].name
  }

  data = {
    POSTGRES_DB       = var.create_rds ? var.rds_database_name : "tesslate"
    POSTGRES_USER     = var.create_rds ? var.rds_username : "tesslate_user"
    POSTGRES_PASSWORD = var.postgres_password
  }

  type = "Opaque"
}

# The app reads these keys even with IRSA (empty keys and endpoint: the SDK's own credentials, AWS S3).
resource "kubernetes_secret" "s3_credentials" {
  metadata {
    name      = "s3-credentials"
    namespace = kubernetes_namespace.tesslate.metadata[0].name
  }

  data = {
    S3_ACCESS_KEY_ID     = ""
    S3_SECRET_ACCESS_KEY = ""
    S3_BUCKET_NAME       = aws_s3_bucket.tesslate_projects.id
    S3_ENDPOINT_URL      = ""
    S3_REGION            = var.aws_region
  }

  type = "Opaque"
}

# The LLM key seeded apps use (referenced from their manifests, copied into project namespaces by the backend).
resource "kubernetes_secret" "llama_api_credentials" {
  metadata {
    name      = "llama-api-credentials"
    namespace = kubernetes_namespace.tesslate.metadata[0].name
  }

  data = {
    api_key = var.llama_api_key
  }

  type = "Opaque"
}

resource "kubernetes_secret" "app_secrets" {
  metadata {
    name      = "tesslate-app-secrets"
    namespace = kubernetes_namespace.tesslate.metadata[0].name
  }

  data = {
    SECRET_KEY = var.app_secret_key
    DATABASE_URL = var.create_rds ? (
      "postgresql+asyncpg://${var.rds_username}:${var.postgres_password}@${aws_db_instance.tesslate[0].endpoint}/${var.rds_database_name}"
      ) : (
      "postgresql+asyncpg://tesslate_user:${var.postgres_password}@postgres:5432/tesslate"
    )

    LITELLM_API_BASE       = "http://litellm-service.tesslate.svc.cluster.local:4000/v1"
    LITELLM_MASTER_KEY     = var.litellm_master_key
    LITELLM_DEFAULT_MODELS = var.litellm_default_models
    LITELLM_TEAM_ID        = "default"
    LITELLM_EMAIL_DOMAIN   = var.domain_name
    LITELLM_INITIAL_BUDGET = "10000.0"

    CORS_ORIGINS        = "https://${var.domain_name},https://*.${var.domain_name}"
    ALLOWED_HOSTS       = "${var.domain_name},*.${var.domain_name}"
    APP_DOMAIN          = var.domain_name
    APP_BASE_URL        = "https://${var.domain_name}"
    DEV_SERVER_BASE_URL = "https://*.${var.domain_name}"
    COOKIE_DOMAIN       = ".${var.domain_name}"

    K8S_DEVSERVER_IMAGE = "${local.ecr_devserver_url}:${local.image_tag}"
    K8S_REGISTRY_URL    = local.ecr_registry_url

    GOOGLE_CLIENT_ID          = var.google_client_id
    GOOGLE_CLIENT_SECRET      = var.google_client_secret
    GOOGLE_OAUTH_REDIRECT_URI = "https://${var.domain_name}/api/auth/google/callback"
    GOOGLE_OAUTH_ENABLED      = tostring(var.google_oauth_enabled)

    GITHUB_CLIENT_ID          = var.github_client_id
    GITHUB_CLIENT_SECRET      = var.github_client_secret
    GITHUB_OAUTH_REDIRECT_URI = "https://${var.domain_name}/api/auth/github/callback"
    GITHUB_OAUTH_ENABLED      = tostring(var.github_oauth_enabled)

    STRIPE_SECRET_KEY            = var.stripe_secret_key
    STRIPE_PUBLISHABLE_KEY       = var.stripe_publishable_key
    STRIPE_WEBHOOK_SECRET        = var.stripe_webhook_secret
    STRIPE_CONNECT_CLIENT_ID     = var.stripe_connect_client_id
    STRIPE_BASIC_PRICE_ID        = var.stripe_basic_price_id
    STRIPE_PRO_PRICE_ID          = var.stripe_pro_price_id
    STRIPE_ULTRA_PRICE_ID        = var.stripe_ultra_price_id
    STRIPE_BASIC_ANNUAL_PRICE_ID = var.stripe_basic_annual_price_id
    STRIPE_PRO_ANNUAL_PRICE_ID   = var.stripe_pro_annual_price_id
    STRIPE_ULTRA_ANNUAL_PRICE_ID = var.stripe_ultra_annual_price_id

    VERCEL_CLIENT_ID          = var.vercel_client_id
    VERCEL_CLIENT_SECRET      = var.vercel_client_secret
    VERCEL_OAUTH_REDIRECT_URI = "https://${var.domain_name}/api/deployment-oauth/vercel/callback"

    NETLIFY_CLIENT_ID          = var.netlify_client_id
    NETLIFY_CLIENT_SECRET      = var.netlify_client_secret
    NETLIFY_OAUTH_REDIRECT_URI = "https://${var.domain_name}/api/deployment-oauth/netlify/callback"

    HEROKU_CLIENT_ID          = var.heroku_client_id
    HEROKU_CLIENT_SECRET      = var.heroku_client_secret
    HEROKU_OAUTH_REDIRECT_URI = "https://${var.domain_name}/api/deployment-oauth/heroku/callback"

    DIGITALOCEAN_CLIENT_ID          = var.digitalocean_client_id
    DIGITALOCEAN_CLIENT_SECRET      = var.digitalocean_client_secret
    DIGITALOCEAN_OAUTH_REDIRECT_URI = "https://${var.domain_name}/api/deployment-oauth/digitalocean/callback"

    MCP_OAUTH_APP_GITHUB_CLIENT_ID     = var.mcp_oauth_app_github_client_id
    MCP_OAUTH_APP_GITHUB_CLIENT_SECRET = var.mcp_oauth_app_github_client_secret
    MCP_OAUTH_APP_SLACK_CLIENT_ID      = var.mcp_oauth_app_slack_client_id
    MCP_OAUTH_APP_SLACK_CLIENT_SECRET  = var.mcp_oauth_app_slack_client_secret

    KANIKO_IMAGE                  = var.kaniko_image
    CONTAINER_PUSH_TIMEOUT        = tostring(var.container_push_timeout)
    CONTAINER_PUSH_DEFAULT_CPU    = var.container_push_default_cpu
    CONTAINER_PUSH_DEFAULT_MEMORY = var.container_push_default_memory

    DEPLOYMENT_ENCRYPTION_KEY = var.deployment_encryption_key

    SMTP_HOST         = var.smtp_host
    SMTP_PORT         = tostring(var.smtp_port)
    SMTP_USERNAME     = var.smtp_username
    SMTP_PASSWORD     = var.smtp_password
    SMTP_USE_TLS      = tostring(var.smtp_use_tls)
    SMTP_SENDER_EMAIL = var.smtp_sender_email
    TWO_FA_ENABLED    = tostring(var.two_fa_enabled)

    POSTHOG_KEY = var.posthog_key

    DATABASE_SSL = tostring(var.create_rds)

    ALLOWED_EMAIL_DOMAINS = var.allowed_email_domains
    BLOCKED_EMAIL_DOMAINS = var.blocked_email_domains

    DISCORD_WEBHOOK_URL = var.discord_webhook_url

    REDIS_URL = var.create_elasticache ? (
      "redis://${aws_elasticache_replication_group.redis[0].primary_endpoint_address}:6379/0"
      ) : (
      "redis://redis:6379/0"
    )

    INTERNAL_API_SECRET = var.internal_api_secret

    # The marketplace accepts this token (marketplace-secret STATIC_TOKENS) for its admin writes.
    MARKETPLACE_ADMIN_TOKEN    = random_password.marketplace_admin_token.result
    TESSLATE_OFFICIAL_BASE_URL = "http://tesslate-marketplace:8800"
  }

  type = "Opaque"
}

# ── The marketplace service: its own database on the same server, a URL-signing key, one admin token. ──

resource "random_password" "marketplace_bundle_url_secret" {
  length  = 48
  special = false
}

resource "random_password" "marketplace_admin_token" {
  length  = 48
  special = false
}

locals {
  marketplace_postgres_host = var.create_rds ? aws_db_instance.tesslate[0].endpoint : "postgres:5432"
  marketplace_postgres_user = var.create_rds ? var.rds_username : "tesslate_user"

  marketplace_database_url = "postgresql+asyncpg://${local.marketplace_postgres_user}:${var.postgres_password}@${local.marketplace_postgres_host}/tesslate_marketplace"

  # Plain libpq URL to the maintenance database: the marketplace's init container creates its database with psql.
  marketplace_admin_database_url = "postgresql://${local.marketplace_postgres_user}:${var.postgres_password}@${local.marketplace_postgres_host}/postgres"
}

resource "kubernetes_secret" "marketplace_secret" {
  metadata {
    name      = "marketplace-secret"
    namespace = kubernetes_namespace.tesslate.metadata[0].name
  }

  data = {
    DATABASE_URL       = local.marketplace_database_url
    ADMIN_DATABASE_URL = local.marketplace_admin_database_url
    BUNDLE_URL_SECRET  = random_password.marketplace_bundle_url_secret.result
    STATIC_TOKENS      = "${random_password.marketplace_admin_token.result}:admin.write:publish:yanks.write:catalog.write:pricing.write"
    S3_BUCKET          = aws_s3_bucket.tesslate_marketplace_bundles.id
  }

  type = "Opaque"
}

# Unsuffixed tesslate-config; the overlays also generate their own hash-suffixed tesslate-config-<hash>.
resource "kubernetes_config_map" "tesslate_config" {
  metadata {
    name      = "tesslate-config"
    namespace = kubernetes_namespace.tesslate.metadata[0].name
  }

  data = {
    DEPLOYMENT_MODE             = "kubernetes"
    K8S_NAMESPACE_PER_PROJECT   = "true"
    K8S_ENABLE_NETWORK_POLICIES = "true"
    K8S_INGRESS_DOMAIN          = var.domain_name
    K8S_STORAGE_CLASS           = "tesslate-block-storage"
    K8S_INGRESS_CLASS           = "nginx"
    devserver_image             = "${local.ecr_devserver_url}:${local.image_tag}"
    registry_url                = local.ecr_registry_url
    aws_region                  = var.aws_region
    s3_bucket_name              = aws_s3_bucket.tesslate_projects.id
  }
}

resource "kubernetes_config_map" "frontend_config" {
  metadata {
    name      = "frontend-config"
    namespace = kubernetes_namespace.tesslate.metadata[0].name
  }

  data = {
    api-url      = "https://${var.domain_name}"
    posthog-host = var.posthog_host
  }
}

# Ingress from ingress-nginx and from the namespace itself; any egress.
resource "kubernetes_network_policy" "tesslate_default" {
  metadata {
    name      = "tesslate-default-policy"
    namespace = kubernetes_namespace.tesslate.metadata[0].name
  }

  spec {
    pod_selector {}
    policy_types = ["Ingress", "Egress"]

    ingress {
      from {
        namespace_selector {
          match_labels = {
            "kubernetes.io/metadata.name" = "ingress-nginx"
          }
        }
      }
    }

    ingress {
      from {
        pod_selector {}
      }
    }

    egress {
      to {
        ip_block {
          cidr = "0.0.0.0/0"
        }
      }
    }
  }
}
