# In-cluster objects Terraform owns (k8s/ownership.yaml). The overlays reference them and never
# render them; KustomizeApply runs after TerraformApply.

resource "kubernetes_namespace_v1" "tesslate" {
  metadata {
    name = "tesslate"
  }
}

resource "kubernetes_service_account_v1" "backend" {
  metadata {
    name      = "tesslate-backend-sa"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
    annotations = {
      "eks.amazonaws.com/role-arn" = module.backend_irsa.arn
    }
  }
}

resource "kubernetes_storage_class_v1" "block" {
  metadata {
    name = "tesslate-block-storage"
  }

  storage_provisioner    = "ebs.csi.aws.com"
  volume_binding_mode    = "WaitForFirstConsumer"
  reclaim_policy         = "Delete"
  allow_volume_expansion = true
  parameters = {
    type      = "gp3"
    fsType    = "ext4"
    encrypted = "true"
  }
}

resource "kubernetes_priority_class_v1" "tesslate" {
  for_each = {
    tesslate-system      = 1000000
    tesslate-environment = 1000
    tesslate-ephemeral   = 100
  }

  metadata {
    name = each.key
  }
  value = each.value
}

resource "kubernetes_config_map_v1" "frontend" {
  metadata {
    name      = "frontend-config"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  data = {
    api-url      = "https://${var.domain_name}"
    posthog-host = "https://app.posthog.com"
  }
}

resource "kubernetes_secret_v1" "app" {
  metadata {
    name      = "tesslate-app-secrets"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  data = merge(var.app_extra_secrets, {
    SECRET_KEY         = var.app_secret_key
    APP_DOMAIN         = var.domain_name
    POSTHOG_KEY        = var.posthog_key
    LITELLM_API_BASE   = "http://litellm:4000"
    LITELLM_MASTER_KEY = var.litellm_master_key
    REDIS_URL          = "redis://redis:6379/0"
  })
}

resource "kubernetes_secret_v1" "postgres" {
  metadata {
    name      = "postgres-secret"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  data = {
    POSTGRES_USER     = "tesslate"
    POSTGRES_PASSWORD = random_password.postgres.result
    POSTGRES_DB       = "tesslate"
    DATABASE_URL      = local.database_url
  }
}

resource "kubernetes_secret_v1" "s3" {
  metadata {
    name      = "s3-credentials"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  # No keys: the pods authenticate through IRSA (tesslate-backend-sa).
  data = {
    S3_BUCKET_NAME = aws_s3_bucket.projects.bucket
    S3_REGION      = var.aws_region
  }
}

resource "kubernetes_secret_v1" "marketplace" {
  metadata {
    name      = "marketplace-secret"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  data = {
    DATABASE_URL                   = "postgresql://tesslate:${random_password.postgres.result}@${local.postgres_host}:5432/marketplace"
    MARKETPLACE_ADMIN_DATABASE_URL = "postgresql://tesslate:${random_password.postgres.result}@${local.postgres_host}:5432/tesslate"
  }
}

resource "kubernetes_secret_v1" "llama" {
  metadata {
    name      = "llama-api-credentials"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  data = {
    LLAMA_API_KEY = var.llama_api_key
  }
}

# The live names (k8s/ownership.yaml): the CSI node plugin and the Volume Hub run under these.
resource "kubernetes_service_account_v1" "btrfs_csi" {
  metadata {
    name      = "tesslate-btrfs-csi-node"
    namespace = "kube-system"
    annotations = {
      "eks.amazonaws.com/role-arn" = module.btrfs_csi_irsa.arn
    }
  }
}

resource "kubernetes_service_account_v1" "volume_hub" {
  metadata {
    name      = "tesslate-volume-hub"
    namespace = "kube-system"
    annotations = {
      "eks.amazonaws.com/role-arn" = module.btrfs_csi_irsa.arn
    }
  }
}

# Platform switches with values only Terraform knows; the overlays do not generate it (k8s/ownership.yaml).
resource "kubernetes_config_map_v1" "tesslate_config" {
  metadata {
    name      = "tesslate-config"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  data = {
    DEPLOYMENT_MODE             = "kubernetes"
    K8S_NAMESPACE_PER_PROJECT   = "true"
    K8S_ENABLE_NETWORK_POLICIES = "true"
    K8S_INGRESS_DOMAIN          = var.domain_name
    K8S_STORAGE_CLASS           = "tesslate-block-storage"
    K8S_INGRESS_CLASS           = "nginx"
    aws_region                  = var.aws_region
    s3_bucket_name              = aws_s3_bucket.projects.bucket
  }
}

resource "kubernetes_secret_v1" "btrfs_csi_config" {
  metadata {
    name      = "tesslate-btrfs-csi-config"
    namespace = "kube-system"
  }

  data = {
    S3_BUCKET  = aws_s3_bucket.projects.bucket
    S3_PREFIX  = "snapshots/"
    AWS_REGION = var.aws_region
  }
}

# Main ingress: the app at the apex, the API under /api. User projects get their own ingresses
# (created by the backend) under the wildcard.
resource "kubernetes_ingress_v1" "tesslate" {
  metadata {
    name      = "tesslate-ingress"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
    annotations = {
      "nginx.ingress.kubernetes.io/proxy-body-size"    = "100m"
      "nginx.ingress.kubernetes.io/proxy-read-timeout" = "3600"
    }
  }

  spec {
    ingress_class_name = "nginx"

    tls {
      hosts       = [var.domain_name, "*.${var.domain_name}"]
      secret_name = "tesslate-wildcard-tls"
    }

    rule {
      host = var.domain_name
      http {
        path {
          path      = "/api"
          path_type = "Prefix"
          backend {
            service {
              name = "tesslate-backend-service"
              port {
                number = 8000
              }
            }
          }
        }
        path {
          path      = "/"
          path_type = "Prefix"
          backend {
            service {
              name = "tesslate-frontend-service"
              port {
                number = 80
              }
            }
          }
        }
      }
    }
  }

  depends_on = [helm_release.ingress_nginx]
}
