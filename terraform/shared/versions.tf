# Provider majors and sources of the live stack; upgrades are later, separate changes (terraform/README.md).
terraform {
  # 1.11: S3-native state locking (use_lockfile in backend-shared.hcl) is generally available.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.25"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.12"
    }
    kubectl = {
      source  = "gavinbunney/kubectl"
      version = "~> 1.14"
    }
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 4.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend-shared.hcl` (key shared/terraform.tfstate).
  backend "s3" {}
}
