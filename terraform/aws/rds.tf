# create_rds = true: the application database (and LiteLLM's tables) live on RDS, and the overlay of
# this environment drops the in-cluster postgres through k8s/components/external-postgres.
resource "random_password" "postgres" {
  length  = 32
  special = false
}

resource "aws_db_subnet_group" "main" {
  count = var.create_rds ? 1 : 0

  name       = "${local.cluster_name}-db"
  subnet_ids = module.vpc.private_subnets
}

resource "aws_security_group" "rds" {
  count = var.create_rds ? 1 : 0

  name        = "${local.cluster_name}-rds"
  description = "PostgreSQL from the EKS nodes"
  vpc_id      = module.vpc.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "rds_from_nodes" {
  count = var.create_rds ? 1 : 0

  security_group_id            = aws_security_group.rds[0].id
  referenced_security_group_id = module.eks.node_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_db_instance" "main" {
  count = var.create_rds ? 1 : 0

  identifier                = "${local.cluster_name}-db"
  engine                    = "postgres"
  engine_version            = "15"
  instance_class            = var.rds_instance_class
  allocated_storage         = var.rds_allocated_storage
  storage_type              = "gp3"
  storage_encrypted         = true
  db_name                   = "tesslate"
  username                  = "tesslate"
  password                  = random_password.postgres.result
  db_subnet_group_name      = aws_db_subnet_group.main[0].name
  vpc_security_group_ids    = [aws_security_group.rds[0].id]
  multi_az                  = var.environment == "production"
  backup_retention_period   = 14
  deletion_protection       = true
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.cluster_name}-db-final"
}

locals {
  postgres_host = var.create_rds ? aws_db_instance.main[0].address : "postgres"
  database_url  = "postgresql+asyncpg://tesslate:${random_password.postgres.result}@${local.postgres_host}:5432/tesslate"
}
