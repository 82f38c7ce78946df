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

# <headscale_subdomain>.<domain> → the platform NLB; not proxied (DNS01 and the Tailscale protocol).
resource "cloudflare_record" "headscale" {
  count = var.cloudflare_zone_id != "" ? 1 : 0

  zone_id         = var.cloudflare_zone_id
  name            = var.headscale_subdomain
  content         = local.nlb_hostname
  type            = "CNAME"
  proxied         = false
  ttl             = 1
  comment         = "Managed by Terraform (shared)"
  allow_overwrite = true

  lifecycle {
    precondition {
      condition     = local.nlb_hostname != ""
      error_message = "NLB hostname not yet available. Deploy nginx ingress first."
    }
  }
}
