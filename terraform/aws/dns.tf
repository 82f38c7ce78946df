# The domain and its wildcard point at ingress-nginx's NLB; every apply follows the NLB's current hostname.

data "kubernetes_service" "nginx_ingress" {
  metadata {
    name      = "ingress-nginx-controller"
    namespace = "ingress-nginx"
  }

  depends_on = [helm_release.nginx_ingress]
}

locals {
  nlb_hostname = try(
    data.kubernetes_service.nginx_ingress.status[0].load_balancer[0].ingress[0].hostname,
    ""
  )
}

# DNS only (not proxied): cert-manager's DNS01 validation and WebSockets go straight to the NLB.
resource "cloudflare_record" "domain" {
  count = var.cloudflare_zone_id != "" ? 1 : 0

  zone_id         = var.cloudflare_zone_id
  name            = local.dns_subdomain
  content         = local.nlb_hostname
  type            = "CNAME"
  proxied         = false
  ttl             = 1
  comment         = "Managed by Terraform (${var.environment})"
  allow_overwrite = true

  lifecycle {
    precondition {
      condition     = local.nlb_hostname != ""
      error_message = "NLB hostname not yet available. Deploy nginx ingress first."
    }
  }
}

# User projects live on <project>.<domain>.
resource "cloudflare_record" "wildcard" {
  count = var.cloudflare_zone_id != "" ? 1 : 0

  zone_id         = var.cloudflare_zone_id
  name            = local.dns_subdomain == "@" ? "*" : "*.${local.dns_subdomain}"
  content         = local.nlb_hostname
  type            = "CNAME"
  proxied         = false
  ttl             = 1
  comment         = "Managed by Terraform (${var.environment})"
  allow_overwrite = true

  lifecycle {
    precondition {
      condition     = local.nlb_hostname != ""
      error_message = "NLB hostname not yet available. Deploy nginx ingress first."
    }
  }
}
