# Cluster add-ons. Chart versions are pinned; raise them deliberately (plan shows the change).

resource "helm_release" "ingress_nginx" {
  name             = "ingress-nginx"
  repository       = "https://kubernetes.github.io/ingress-nginx"
  chart            = "ingress-nginx"
  version          = "4.9.0"
  namespace        = "ingress-nginx"
  create_namespace = true

  values = [yamlencode({
    controller = {
      replicaCount = var.nginx_ingress_replicas
      service = {
        annotations = {
          "service.beta.kubernetes.io/aws-load-balancer-type"   = "nlb"
          "service.beta.kubernetes.io/aws-load-balancer-scheme" = "internet-facing"
        }
      }
      config = {
        "proxy-body-size" = "100m"
      }
    }
  })]

  depends_on = [module.eks]
}

resource "helm_release" "cert_manager" {
  count = var.enable_cert_manager ? 1 : 0

  name             = "cert-manager"
  repository       = "https://charts.jetstack.io"
  chart            = "cert-manager"
  version          = "v1.20.2"
  namespace        = "cert-manager"
  create_namespace = true

  values = [yamlencode({
    crds = {
      enabled = true
      keep    = true
    }
  })]

  depends_on = [module.eks]
}

resource "kubernetes_secret_v1" "cloudflare_cert_manager" {
  count = var.enable_cert_manager ? 1 : 0

  metadata {
    name      = "cloudflare-api-token"
    namespace = "cert-manager"
  }

  data = {
    api-token = var.cloudflare_api_token
  }

  depends_on = [helm_release.cert_manager]
}

# Let's Encrypt through Cloudflare DNS01 (needed for the wildcard). kubectl_manifest because the
# CRDs come from the release above and do not exist at plan time of the first apply.
resource "kubectl_manifest" "cluster_issuer" {
  for_each = var.enable_cert_manager ? {
    letsencrypt-prod    = "https://acme-v02.api.letsencrypt.org/directory"
    letsencrypt-staging = "https://acme-staging-v02.api.letsencrypt.org/directory"
  } : {}

  yaml_body = yamlencode({
    apiVersion = "cert-manager.io/v1"
    kind       = "ClusterIssuer"
    metadata   = { name = each.key }
    spec = {
      acme = {
        server              = each.value
        email               = var.letsencrypt_email
        privateKeySecretRef = { name = "${each.key}-account-key" }
        solvers = [{
          dns01 = {
            cloudflare = {
              apiTokenSecretRef = { name = "cloudflare-api-token", key = "api-token" }
            }
          }
        }]
      }
    }
  })

  depends_on = [helm_release.cert_manager, kubernetes_secret_v1.cloudflare_cert_manager]
}

resource "kubectl_manifest" "wildcard_certificate" {
  count = var.enable_cert_manager ? 1 : 0

  yaml_body = yamlencode({
    apiVersion = "cert-manager.io/v1"
    kind       = "Certificate"
    metadata   = { name = "tesslate-wildcard-tls", namespace = "tesslate" }
    spec = {
      secretName = "tesslate-wildcard-tls"
      dnsNames   = [var.domain_name, "*.${var.domain_name}"]
      issuerRef  = { name = "letsencrypt-prod", kind = "ClusterIssuer" }
    }
  })

  depends_on = [kubectl_manifest.cluster_issuer, kubernetes_namespace_v1.tesslate]
}

resource "helm_release" "external_dns" {
  count = var.enable_external_dns ? 1 : 0

  name             = "external-dns"
  repository       = "https://kubernetes-sigs.github.io/external-dns"
  chart            = "external-dns"
  version          = "1.14.0"
  namespace        = kubernetes_namespace_v1.external_dns[0].metadata[0].name
  create_namespace = false

  values = [yamlencode({
    provider      = { name = "cloudflare" }
    domainFilters = [var.domain_name]
    policy        = "upsert-only"
    txtOwnerId    = local.cluster_name
    env = [{
      name = "CF_API_TOKEN"
      valueFrom = {
        secretKeyRef = { name = "cloudflare-api-token", key = "api-token" }
      }
    }]
  })]

  depends_on = [kubernetes_secret_v1.cloudflare_external_dns]
}

resource "kubernetes_secret_v1" "cloudflare_external_dns" {
  count = var.enable_external_dns ? 1 : 0

  metadata {
    name      = "cloudflare-api-token"
    namespace = "external-dns"
  }

  data = {
    api-token = var.cloudflare_api_token
  }

  depends_on = [kubernetes_namespace_v1.external_dns]
}

resource "kubernetes_namespace_v1" "external_dns" {
  count = var.enable_external_dns ? 1 : 0

  metadata {
    name = "external-dns"
  }
}

resource "helm_release" "cluster_autoscaler" {
  count = var.enable_cluster_autoscaler ? 1 : 0

  name       = "cluster-autoscaler"
  repository = "https://kubernetes.github.io/autoscaler"
  chart      = "cluster-autoscaler"
  version    = "9.35.0"
  namespace  = "kube-system"

  values = [yamlencode({
    autoDiscovery = { clusterName = local.cluster_name }
    awsRegion     = var.aws_region
    rbac = {
      serviceAccount = {
        name        = "cluster-autoscaler"
        annotations = { "eks.amazonaws.com/role-arn" = module.cluster_autoscaler_irsa.arn }
      }
    }
  })]

  depends_on = [module.eks]
}

resource "helm_release" "metrics_server" {
  count = var.enable_metrics_server ? 1 : 0

  name       = "metrics-server"
  repository = "https://kubernetes-sigs.github.io/metrics-server"
  chart      = "metrics-server"
  version    = "3.12.0"
  namespace  = "kube-system"

  depends_on = [module.eks]
}

# VolumeSnapshot CRDs and controller, used by the btrfs CSI driver's VolumeSnapshotClass.
resource "helm_release" "snapshot_controller" {
  name       = "snapshot-controller"
  repository = "https://piraeus.io/helm-charts"
  chart      = "snapshot-controller"
  version    = "3.0.6"
  namespace  = "kube-system"

  depends_on = [module.eks]
}
