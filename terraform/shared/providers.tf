provider "aws" {
  region = var.aws_region

  # Refuses any other account; the pipeline passes its environment table's account as -var aws_account_id.
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = {
      Project   = var.project_name
      ManagedBy = "terraform"
      Stack     = "shared"
    }
  }
}

# The platform cluster is reached as its eks-deployer role (the live stack's `aws eks get-token --role-arn`),
# with a token this provider presigns: no aws CLI needed.
provider "aws" {
  alias  = "eks_deployer"
  region = var.aws_region

  allowed_account_ids = [var.aws_account_id]

  assume_role {
    role_arn     = aws_iam_role.eks_deployer.arn
    session_name = "terraform-shared"
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
