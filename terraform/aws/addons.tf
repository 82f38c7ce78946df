# Cluster add-ons as Helm releases: ingress-nginx (the NLB), cert-manager with the Let's Encrypt issuers,
# reflector, external-dns, cluster-autoscaler, metrics-server, the CSI snapshot controller.

resource "helm_release" "nginx_ingress" {
  name       = "ingress-nginx"
  repository = "https://kubernetes.github.io/ingress-nginx"
  chart      = "ingress-nginx"
  # Security fix inside the takeover: 4.9.0 (controller 1.9.5) is vulnerable to CVE-2025-1974 ("IngressNightmare",
  # fixed in controller 1.11.5 / 1.12.1). 4.14.1 ships controller 1.14.1. terraform/README.md lists what to check.
  version          = "4.14.1"
  namespace        = "ingress-nginx"
  create_namespace = true

  values = [
    yamlencode({
      controller = {
        replicaCount = var.nginx_ingress_replicas

        # An NLB (cross-zone, IP targets): long-lived WebSocket connections pass through untouched.
        service = {
          type = "LoadBalancer"
          annotations = {
            "service.beta.kubernetes.io/aws-load-balancer-type"                              = "nlb"
            "service.beta.kubernetes.io/aws-load-balancer-scheme"                            = "internet-facing"
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"                   = "ip"
            "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled" = "true"
          }
        }

        config = {
          "use-proxy-protocol"             = "false"
          "use-forwarded-headers"          = "true"
          "compute-full-forwarded-for"     = "true"
          "proxy-body-size"                = "50m"
          "proxy-buffering"                = "off"
          "proxy-read-timeout"             = "3600"
          "proxy-send-timeout"             = "3600"
          "upstream-keepalive-connections" = "10000"
          "upstream-keepalive-timeout"     = "60"
        }

        resources = {
          requests = {
            cpu    = "100m"
            memory = "128Mi"
          }
          limits = {
            cpu    = "500m"
            memory = "512Mi"
          }
        }

        metrics = {
          enabled = true
          serviceMonitor = {
            enabled = false
          }
        }

        admissionWebhooks = {
          enabled = true
        }
      }
    })
  ]

  depends_on = [module.eks]
}

# cert-manager v1.18 or later: older releases leak Cloudflare DNS01 TXT records since Cloudflare dropped the
# per-record zone_id field (2024-11-30), and renewals eventually stall.
resource "helm_release" "cert_manager" {
  count = var.enable_cert_manager ? 1 : 0

  name             = "cert-manager"
  repository       = "https://charts.jetstack.io"
  chart            = "cert-manager"
  version          = "v1.20.2"
  namespace        = "cert-manager"
  create_namespace = true

  values = [
    yamlencode({
      # CRDs (and so every Certificate) survive an uninstall.
      crds = {
        enabled = true
        keep    = true
      }

      serviceAccount = {
        annotations = {
          "eks.amazonaws.com/role-arn" = module.cert_manager_irsa.iam_role_arn
        }
      }

      resources = {
        requests = {
          cpu    = "50m"
          memory = "64Mi"
        }
        limits = {
          cpu    = "200m"
          memory = "256Mi"
        }
      }

      dns01RecursiveNameservers     = "1.1.1.1:53,8.8.8.8:53"
      dns01RecursiveNameserversOnly = true

      networkPolicy = { enabled = false }
      cainjector    = { networkPolicy = { enabled = false } }
      webhook       = { networkPolicy = { enabled = false } }
    })
  ]

  depends_on = [module.eks]
}

# Mirrors the renewed wildcard certificate into every project namespace (see ingress.tf).
resource "helm_release" "reflector" {
  count = var.enable_cert_manager ? 1 : 0

  name             = "reflector"
  repository       = "https://emberstack.github.io/helm-charts"
  chart            = "reflector"
  version          = "9.1.18"
  namespace        = "kube-system"
  create_namespace = false

  values = [
    yamlencode({
      resources = {
        requests = {
          cpu    = "10m"
          memory = "32Mi"
        }
        limits = {
          cpu    = "100m"
          memory = "128Mi"
        }
      }
    })
  ]

  depends_on = [helm_release.cert_manager]
}

resource "kubernetes_namespace" "external_dns" {
  metadata {
    name = "external-dns"
  }

  depends_on = [module.eks]
}

# The Cloudflare token, once for cert-manager's DNS01 solver and once for external-dns.
resource "kubernetes_secret" "cloudflare_api_token" {
  metadata {
    name      = "cloudflare-api-token"
    namespace = "cert-manager"
  }

  data = {
    api-token = var.cloudflare_api_token
  }

  depends_on = [helm_release.cert_manager]
}

resource "kubernetes_secret" "cloudflare_api_token_external_dns" {
  metadata {
    name      = "cloudflare-api-token"
    namespace = "external-dns"
  }

  data = {
    api-token = var.cloudflare_api_token
  }

  depends_on = [kubernetes_namespace.external_dns]
}

# Needed when the token can see more than one zone.
resource "kubernetes_secret" "cloudflare_zone_id" {
  count = var.enable_cert_manager && var.cloudflare_zone_id != "" ? 1 : 0

  metadata {
    name      = "cloudflare-zone-id"
    namespace = "cert-manager"
  }

  data = {
    zone-id = var.cloudflare_zone_id
  }

  depends_on = [helm_release.cert_manager]
}

resource "kubectl_manifest" "letsencrypt_issuer" {
  count = var.enable_cert_manager ? 1 : 0

  yaml_body = yamlencode({
    apiVersion = "cert-manager.io/v1"
    kind       = "ClusterIssuer"
    metadata = {
      name = "letsencrypt-prod"
    }
    spec = {
      acme = {
        server = "https://acme-v02.api.letsencrypt.org/directory"
        email  = "admin@${var.domain_name}"
        privateKeySecretRef = {
          name = "letsencrypt-prod"
        }
        solvers = [
          {
            dns01 = {
              cloudflare = {
                email = "admin@${var.domain_name}"
                apiTokenSecretRef = {
                  name = "cloudflare-api-token"
                  key  = "api-token"
                }
              }
            }
            selector = {
              dnsZones = [local.cloudflare_zone_name]
            }
          }
        ]
      }
    }
  })

  depends_on = [
    helm_release.cert_manager,
    kubernetes_secret.cloudflare_api_token,
  ]
}

resource "kubectl_manifest" "letsencrypt_staging_issuer" {
  count = var.enable_cert_manager ? 1 : 0

  yaml_body = yamlencode({
    apiVersion = "cert-manager.io/v1"
    kind       = "ClusterIssuer"
    metadata = {
      name = "letsencrypt-staging"
    }
    spec = {
      acme = {
        server = "https://acme-staging-v02.api.letsencrypt.org/directory"
        email  = "admin@${var.domain_name}"
        privateKeySecretRef = {
          name = "letsencrypt-staging"
        }
        solvers = [
          {
            dns01 = {
              cloudflare = {
                email = "admin@${var.domain_name}"
                apiTokenSecretRef = {
                  name = "cloudflare-api-token"
                  key  = "api-token"
                }
              }
            }
            selector = {
              dnsZones = [local.cloudflare_zone_name]
            }
          }
        ]
      }
    }
  })

  depends_on = [
    helm_release.cert_manager,
    kubernetes_secret.cloudflare_api_token,
  ]
}

resource "helm_release" "external_dns" {
  count = var.enable_external_dns ? 1 : 0

  name             = "external-dns"
  repository       = "https://kubernetes-sigs.github.io/external-dns"
  chart            = "external-dns"
  version          = "1.14.0"
  namespace        = "external-dns"
  create_namespace = true

  values = [
    yamlencode({
      provider = "cloudflare"

      cloudflare = {
        apiToken = ""
        proxied  = true
      }

      env = [
        {
          name = "CF_API_TOKEN"
          valueFrom = {
            secretKeyRef = {
              name = "cloudflare-api-token"
              key  = "api-token"
            }
          }
        }
      ]

      domainFilters = [local.cloudflare_zone_name]

      zoneIDFilters = var.cloudflare_zone_id != "" ? [var.cloudflare_zone_id] : []

      # sync: records of deleted Ingresses are deleted too.
      policy = "sync"

      sources = ["ingress", "service"]

      # Only the platform namespace: project subdomains are covered by the wildcard record (dns.tf), and one record
      # per project would fill the zone's record quota. A chart-level `namespace` would set the install namespace,
      # not the watch filter, hence extraArgs.
      extraArgs = ["--namespace=tesslate"]

      txtOwnerId = "${var.project_name}-${var.environment}"

      serviceAccount = {
        annotations = {
          "eks.amazonaws.com/role-arn" = module.external_dns_irsa.iam_role_arn
        }
      }

      resources = {
        requests = {
          cpu    = "50m"
          memory = "64Mi"
        }
        limits = {
          cpu    = "200m"
          memory = "256Mi"
        }
      }

      interval = "1m"

      logLevel = "info"
    })
  ]

  depends_on = [
    module.eks,
    kubernetes_secret.cloudflare_api_token_external_dns,
  ]
}

resource "helm_release" "cluster_autoscaler" {
  count = var.enable_cluster_autoscaler ? 1 : 0

  name       = "cluster-autoscaler"
  repository = "https://kubernetes.github.io/autoscaler"
  chart      = "cluster-autoscaler"
  # Inside the takeover: the autoscaler's minor must match the cluster's; 9.54.0 ships cluster-autoscaler 1.35,
  # eks_cluster_version's default (9.35.0 shipped 1.29).
  version   = "9.54.0"
  namespace = "kube-system"

  values = [
    yamlencode({
      autoDiscovery = {
        clusterName = local.cluster_name
      }

      awsRegion = var.aws_region

      rbac = {
        serviceAccount = {
          annotations = {
            "eks.amazonaws.com/role-arn" = module.cluster_autoscaler_irsa.iam_role_arn
          }
        }
      }

      extraArgs = {
        "skip-nodes-with-local-storage" = false
        "skip-nodes-with-system-pods"   = false
        "balance-similar-node-groups"   = true
        "expander"                      = "least-waste"
        "scale-down-delay-after-add"    = "5m"
        "scale-down-unneeded-time"      = "5m"
      }

      resources = {
        requests = {
          cpu    = "50m"
          memory = "64Mi"
        }
        limits = {
          cpu    = "200m"
          memory = "256Mi"
        }
      }
    })
  ]

  depends_on = [module.eks]
}

resource "helm_release" "metrics_server" {
  count = var.enable_metrics_server ? 1 : 0

  name       = "metrics-server"
  repository = "https://kubernetes-sigs.github.io/metrics-server"
  chart      = "metrics-server"
  version    = "3.12.0"
  namespace  = "kube-system"

  values = [
    yamlencode({
      args = [
        "--kubelet-insecure-tls",
        "--kubelet-preferred-address-types=InternalIP"
      ]

      resources = {
        requests = {
          cpu    = "50m"
          memory = "64Mi"
        }
        limits = {
          cpu    = "200m"
          memory = "256Mi"
        }
      }
    })
  ]

  depends_on = [module.eks]
}

# VolumeSnapshot CRDs and controller for the EBS CSI driver (ebs_snapshot_class in cluster.tf).
resource "helm_release" "snapshot_controller" {
  name       = "snapshot-controller"
  repository = "https://piraeus.io/helm-charts"
  chart      = "snapshot-controller"
  version    = "3.0.6"
  namespace  = "kube-system"

  values = [
    yamlencode({
      controller = {
        resources = {
          requests = {
            cpu    = "10m"
            memory = "32Mi"
          }
          limits = {
            cpu    = "100m"
            memory = "128Mi"
          }
        }
      }

      webhook = {
        enabled = true
        resources = {
          requests = {
            cpu    = "10m"
            memory = "32Mi"
          }
          limits = {
            cpu    = "100m"
            memory = "128Mi"
          }
        }
      }
    })
  ]

  depends_on = [module.eks]
}
