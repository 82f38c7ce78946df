resource "helm_release" "ingress_nginx" {
  name             = "ingress-nginx"
  repository       = "https://kubernetes.github.io/ingress-nginx"
  chart            = "ingress-nginx"
  version          = "4.9.0"
  namespace        = "ingress-nginx"
  create_namespace = true

  values = [yamlencode({
    controller = {
      replicaCount = 1
      service = {
        annotations = {
          "service.beta.kubernetes.io/aws-load-balancer-type"   = "nlb"
          "service.beta.kubernetes.io/aws-load-balancer-scheme" = "internet-facing"
        }
      }
    }
  })]

  depends_on = [module.eks]
}

resource "helm_release" "cert_manager" {
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
  metadata {
    name      = "cloudflare-api-token"
    namespace = "cert-manager"
  }

  data = {
    api-token = var.cloudflare_api_token
  }

  depends_on = [helm_release.cert_manager]
}

resource "kubectl_manifest" "cluster_issuer" {
  yaml_body = yamlencode({
    apiVersion = "cert-manager.io/v1"
    kind       = "ClusterIssuer"
    metadata   = { name = "letsencrypt-prod" }
    spec = {
      acme = {
        server              = "https://acme-v02.api.letsencrypt.org/directory"
        email               = var.letsencrypt_email
        privateKeySecretRef = { name = "letsencrypt-prod-account-key" }
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

  depends_on = [kubernetes_secret_v1.cloudflare_cert_manager]
}

# Headscale (self-hosted Tailscale control server) for access to internal tools.
resource "helm_release" "headscale" {
  name             = "headscale"
  repository       = "https://charts.gabe565.com"
  chart            = "headscale"
  version          = var.headscale_chart_version
  namespace        = "headscale"
  create_namespace = true

  values = [yamlencode({
    env = {
      HEADSCALE_SERVER_URL                    = "https://${var.headscale_hostname}"
      HEADSCALE_DNS_CONFIG_BASE_DOMAIN        = var.headscale_magic_dns_domain
      HEADSCALE_DNS_CONFIG_MAGIC_DNS          = "true"
      HEADSCALE_DNS_CONFIG_OVERRIDE_LOCAL_DNS = "true"
    }
    ingress = {
      main = {
        enabled          = true
        ingressClassName = "nginx"
        annotations      = { "cert-manager.io/cluster-issuer" = "letsencrypt-prod" }
        hosts = [{
          host  = var.headscale_hostname
          paths = [{ path = "/" }]
        }]
        tls = [{
          secretName = "headscale-tls"
          hosts      = [var.headscale_hostname]
        }]
      }
    }
    persistence = {
      config = {
        enabled = true
      }
    }
  })]

  depends_on = [helm_release.ingress_nginx, kubectl_manifest.cluster_issuer]
}
