provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.tags
  }
}

# The Kubernetes-side providers authenticate as the identity running Terraform (a presigned STS
# token, like `aws eks get-token`), without shelling out to the aws CLI. That identity needs an EKS
# access entry: every ARN in eks_admin_iam_arns and the GitHub deploy role get one (eks.tf).
# The token lives 15 minutes; a first apply that outlasts it is re-run and converges.
data "aws_eks_cluster_auth" "this" {
  name = module.eks.cluster_name
}

provider "kubernetes" {
  host                   = module.eks.cluster_endpoint
  cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
  token                  = data.aws_eks_cluster_auth.this.token
}

provider "helm" {
  kubernetes = {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    token                  = data.aws_eks_cluster_auth.this.token
  }
}

provider "kubectl" {
  host                   = module.eks.cluster_endpoint
  cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
  token                  = data.aws_eks_cluster_auth.this.token
  load_config_file       = false
}

provider "cloudflare" {
  api_token = var.cloudflare_api_token
}
