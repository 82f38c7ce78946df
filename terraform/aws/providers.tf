provider "aws" {
  region = var.aws_region

  # Refuses to touch any other account, whatever credentials are active; the pipeline passes its
  # environment table's account (--aws-account-id) as -var aws_account_id.
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = {
      Project     = "tesslate-studio"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

# The cluster is reached as the eks-deployer role (as the live stack's `aws eks get-token --role-arn` did),
# so whoever may assume it (eks_admin_iam_arns, and the GitHub deploy role) can run this stack, without the
# aws CLI: the token is a presigned STS request made by this provider.
provider "aws" {
  alias  = "eks_deployer"
  region = var.aws_region

  allowed_account_ids = [var.aws_account_id]

  assume_role {
    role_arn     = aws_iam_role.eks_deployer.arn
    session_name = "terraform-${var.environment}"
  }
}

data "aws_eks_cluster_auth" "cluster" {
  provider = aws.eks_deployer

  name = module.eks.cluster_name

  depends_on = [module.eks]
}

provider "kubernetes" {
  host                   = module.eks.cluster_endpoint
  cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
  token                  = data.aws_eks_cluster_auth.cluster.token
}

provider "helm" {
  kubernetes {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    token                  = data.aws_eks_cluster_auth.cluster.token
  }
}

provider "kubectl" {
  host                   = module.eks.cluster_endpoint
  cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
  token                  = data.aws_eks_cluster_auth.cluster.token
  load_config_file       = false
}

provider "cloudflare" {
  api_token = var.cloudflare_api_token
}
