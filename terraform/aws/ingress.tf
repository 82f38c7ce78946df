# The wildcard certificate (apex and *.domain) and the platform's main Ingress.

resource "kubectl_manifest" "wildcard_certificate" {
  count = var.enable_cert_manager ? 1 : 0

  yaml_body = yamlencode({
    apiVersion = "cert-manager.io/v1"
    kind       = "Certificate"
    metadata = {
      name      = "tesslate-wildcard-tls"
      namespace = "tesslate"
    }
    spec = {
      secretName = "tesslate-wildcard-tls"
      # Copied onto the issued Secret at every renewal: reflector mirrors it into the proj-* namespaces.
      secretTemplate = {
        annotations = {
          "reflector.v1.k8s.emberstack.com/reflection-allowed"            = "true"
          "reflector.v1.k8s.emberstack.com/reflection-allowed-namespaces" = "proj-.*"
          "reflector.v1.k8s.emberstack.com/reflection-auto-enabled"       = "true"
          "reflector.v1.k8s.emberstack.com/reflection-auto-namespaces"    = "proj-.*"
        }
      }
      issuerRef = {
        name = "letsencrypt-prod"
        kind = "ClusterIssuer"
      }
      commonName = var.domain_name
      dnsNames = [
        var.domain_name,
        "*.${var.domain_name}"
      ]
    }
  })

  depends_on = [
    kubernetes_namespace.tesslate,
    kubectl_manifest.letsencrypt_issuer,
  ]
}

# /api, /ws and /health to the backend, the rest to the frontend. WebSockets and streamed responses need the
# hour-long timeouts, HTTP/1.1 and no buffering; the cookie keeps a browser's terminal on one API replica.
resource "kubectl_manifest" "tesslate_ingress" {
  yaml_body = yamlencode({
    apiVersion = "networking.k8s.io/v1"
    kind       = "Ingress"
    metadata = {
      name      = "tesslate-ingress"
      namespace = "tesslate"
      annotations = {
        "kubernetes.io/ingress.class"                        = "nginx"
        "cert-manager.io/cluster-issuer"                     = "letsencrypt-prod"
        "nginx.ingress.kubernetes.io/ssl-redirect"           = "true"
        "nginx.ingress.kubernetes.io/force-ssl-redirect"     = "true"
        "nginx.ingress.kubernetes.io/proxy-http-version"     = "1.1"
        "nginx.ingress.kubernetes.io/proxy-read-timeout"     = "3600"
        "nginx.ingress.kubernetes.io/proxy-send-timeout"     = "3600"
        "nginx.ingress.kubernetes.io/proxy-connect-timeout"  = "3600"
        "nginx.ingress.kubernetes.io/proxy-body-size"        = "100m"
        "nginx.ingress.kubernetes.io/proxy-buffering"        = "off"
        "nginx.ingress.kubernetes.io/use-regex"              = "true"
        "nginx.ingress.kubernetes.io/enable-cors"            = "true"
        "nginx.ingress.kubernetes.io/cors-allow-origin"      = "https://${var.domain_name}, https://*.${var.domain_name}"
        "nginx.ingress.kubernetes.io/cors-allow-methods"     = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
        "nginx.ingress.kubernetes.io/cors-allow-credentials" = "true"
        "nginx.ingress.kubernetes.io/proxy-hide-header"      = "X-Powered-By"
        "nginx.ingress.kubernetes.io/affinity"               = "cookie"
        "nginx.ingress.kubernetes.io/session-cookie-name"    = "TESS_AFFINITY"
        "nginx.ingress.kubernetes.io/session-cookie-max-age" = "7200"
        "nginx.ingress.kubernetes.io/session-cookie-path"    = "/"
      }
    }
    spec = {
      ingressClassName = "nginx"
      tls = [{
        hosts = [
          var.domain_name,
          "*.${var.domain_name}"
        ]
        secretName = "tesslate-wildcard-tls"
      }]
      rules = [{
        host = var.domain_name
        http = {
          paths = [
            {
              path     = "/api"
              pathType = "Prefix"
              backend = {
                service = {
                  name = "tesslate-backend-service"
                  port = { number = 8000 }
                }
              }
            },
            {
              path     = "/ws"
              pathType = "Prefix"
              backend = {
                service = {
                  name = "tesslate-backend-service"
                  port = { number = 8000 }
                }
              }
            },
            {
              path     = "/health"
              pathType = "Prefix"
              backend = {
                service = {
                  name = "tesslate-backend-service"
                  port = { number = 8000 }
                }
              }
            },
            {
              path     = "/"
              pathType = "Prefix"
              backend = {
                service = {
                  name = "tesslate-frontend-service"
                  port = { number = 80 }
                }
              }
            }
          ]
        }
      }]
    }
  })

  depends_on = [
    kubernetes_namespace.tesslate,
    kubectl_manifest.wildcard_certificate,
  ]
}
