data "kubernetes_service_v1" "ingress_nginx" {
  metadata {
    name      = "ingress-nginx-controller"
    namespace = "ingress-nginx"
  }

  depends_on = [helm_release.ingress_nginx]
}

resource "cloudflare_dns_record" "headscale" {
  zone_id = var.cloudflare_zone_id
  name    = var.headscale_hostname
  type    = "CNAME"
  content = data.kubernetes_service_v1.ingress_nginx.status[0].load_balancer[0].ingress[0].hostname
  ttl     = 300
  proxied = false
  comment = "Headscale on ${local.cluster_name} (Terraform)"
}
