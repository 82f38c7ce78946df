# LiteLLM proxy, owned by Terraform end to end (config, Deployment, database). Reload restarts it
# by changing the config checksum annotation below, not with `kubectl rollout restart` (which
# Terraform would report as drift).

locals {
  litellm_config = file("${path.module}/../../k8s/litellm/config.yaml")
  litellm_database_url = var.create_rds ? (
    "postgresql://tesslate:${random_password.postgres.result}@${local.postgres_host}:5432/tesslate"
  ) : "postgresql://litellm:${random_password.litellm_postgres.result}@litellm-postgres:5432/litellm"
}

resource "random_password" "litellm_postgres" {
  length  = 32
  special = false
}

resource "kubernetes_config_map_v1" "litellm" {
  metadata {
    name      = "litellm-config"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  data = {
    "config.yaml" = local.litellm_config
  }
}

resource "kubernetes_secret_v1" "litellm" {
  metadata {
    name      = "litellm-secret"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  data = {
    LITELLM_MASTER_KEY = var.litellm_master_key
    DATABASE_URL       = local.litellm_database_url
  }
}

resource "kubernetes_deployment_v1" "litellm" {
  metadata {
    name      = "litellm"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
    labels    = { app = "litellm" }
  }

  spec {
    replicas = var.environment == "production" ? 2 : 1

    selector {
      match_labels = { app = "litellm" }
    }

    template {
      metadata {
        labels = { app = "litellm" }
        annotations = {
          "tesslate.io/config-sha256" = sha256(local.litellm_config)
        }
      }

      spec {
        termination_grace_period_seconds = 30

        container {
          name              = "litellm"
          image             = "ghcr.io/berriai/litellm:${var.litellm_image_tag}"
          image_pull_policy = "IfNotPresent"
          args              = ["--config", "/app/config.yaml", "--port", "4000"]

          port {
            name           = "http"
            container_port = 4000
          }

          env_from {
            secret_ref {
              name = kubernetes_secret_v1.litellm.metadata[0].name
            }
          }

          env_from {
            secret_ref {
              name = kubernetes_secret_v1.llama.metadata[0].name
            }
          }

          volume_mount {
            name       = "config"
            mount_path = "/app/config.yaml"
            sub_path   = "config.yaml"
          }

          resources {
            requests = { cpu = "250m", memory = "512Mi" }
            limits   = { cpu = "1000m", memory = "1Gi" }
          }

          liveness_probe {
            http_get {
              path = "/health/liveliness"
              port = "http"
            }
            initial_delay_seconds = 30
            period_seconds        = 20
          }

          readiness_probe {
            http_get {
              path = "/health/readiness"
              port = "http"
            }
            period_seconds = 10
          }
        }

        volume {
          name = "config"
          config_map {
            name = kubernetes_config_map_v1.litellm.metadata[0].name
          }
        }
      }
    }
  }
}

resource "kubernetes_service_v1" "litellm" {
  metadata {
    name      = "litellm"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  spec {
    selector = { app = "litellm" }
    port {
      name        = "http"
      port        = 4000
      target_port = "http"
    }
  }
}

# LiteLLM's own PostgreSQL when there is no RDS.
resource "kubernetes_persistent_volume_claim_v1" "litellm_postgres" {
  count = var.create_rds ? 0 : 1

  metadata {
    name      = "litellm-postgres-data"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  spec {
    access_modes       = ["ReadWriteOnce"]
    storage_class_name = kubernetes_storage_class_v1.block.metadata[0].name
    resources {
      requests = { storage = "10Gi" }
    }
  }

  wait_until_bound = false
}

resource "kubernetes_deployment_v1" "litellm_postgres" {
  count = var.create_rds ? 0 : 1

  metadata {
    name      = "litellm-postgres"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
    labels    = { app = "litellm-postgres" }
  }

  spec {
    replicas = 1

    strategy {
      type = "Recreate"
    }

    selector {
      match_labels = { app = "litellm-postgres" }
    }

    template {
      metadata {
        labels = { app = "litellm-postgres" }
      }

      spec {
        termination_grace_period_seconds = 60

        container {
          name  = "postgres"
          image = "postgres:15.10"

          env {
            name  = "POSTGRES_USER"
            value = "litellm"
          }
          env {
            name  = "POSTGRES_DB"
            value = "litellm"
          }
          env {
            name  = "POSTGRES_PASSWORD"
            value = random_password.litellm_postgres.result
          }
          env {
            name  = "PGDATA"
            value = "/var/lib/postgresql/data/pgdata"
          }

          port {
            container_port = 5432
          }

          volume_mount {
            name       = "data"
            mount_path = "/var/lib/postgresql/data"
          }

          resources {
            requests = { cpu = "100m", memory = "256Mi" }
            limits   = { cpu = "500m", memory = "1Gi" }
          }
        }

        volume {
          name = "data"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim_v1.litellm_postgres[0].metadata[0].name
          }
        }
      }
    }
  }
}

resource "kubernetes_service_v1" "litellm_postgres" {
  count = var.create_rds ? 0 : 1

  metadata {
    name      = "litellm-postgres"
    namespace = kubernetes_namespace_v1.tesslate.metadata[0].name
  }

  spec {
    selector = { app = "litellm-postgres" }
    port {
      port        = 5432
      target_port = 5432
    }
  }
}
