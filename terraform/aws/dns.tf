# Apex and wildcard to the ingress-nginx NLB. Project hosts under the wildcard need no record each.
data "kubernetes_service_v1" "ingress_nginx" {
  metadata {
    name      = "ingress-nginx-controller"
    namespace = "ingress-nginx"
  }

  depends_on = [helm_release.ingress_nginx]
}

locals {
  ingress_hostname = data.kubernetes_service_v1.ingress_nginx.status[0].load_balancer[0].ingress[0].hostname
}

resource "cloudflare_dns_record" "apex" {
  zone_id = var.cloudflare_zone_id
  name    = var.domain_name
  type    = "CNAME"
  content = local.ingress_hostname
  ttl     = 300
  proxied = false
  comment = "${local.cluster_name} ingress (Terraform)"
}

resource "cloudflare_dns_record" "wildcard" {
  zone_id = var.cloudflare_zone_id
  name    = "*.${var.domain_name}"
  type    = "CNAME"
  content = local.ingress_hostname
  ttl     = 300
  proxied = false
  comment = "${local.cluster_name} user projects (Terraform)"
}
