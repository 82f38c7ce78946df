# ── The app's PostgreSQL on RDS (create_rds; production). Without it the overlay's in-cluster postgres serves. ──

resource "aws_db_subnet_group" "tesslate" {
  count = var.create_rds ? 1 : 0

  name       = "${var.project_name}-${var.environment}-db-subnet"
  subnet_ids = module.vpc.private_subnets

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-db-subnet"
  })
}

resource "aws_security_group" "rds" {
  count = var.create_rds ? 1 : 0

  name_prefix = "${var.project_name}-${var.environment}-rds-"
  vpc_id      = module.vpc.vpc_id

  ingress {
    description     = "PostgreSQL from EKS nodes"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [module.eks.node_security_group_id]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-rds-sg"
  })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_db_instance" "tesslate" {
  count = var.create_rds ? 1 : 0

  identifier     = "${var.project_name}-${var.environment}-postgres"
  engine         = "postgres"
  engine_version = "15"
  instance_class = var.rds_instance_class

  allocated_storage     = var.rds_allocated_storage
  max_allocated_storage = var.rds_allocated_storage * 2
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name  = var.rds_database_name
  username = var.rds_username
  password = var.postgres_password

  db_subnet_group_name   = aws_db_subnet_group.tesslate[0].name
  vpc_security_group_ids = [aws_security_group.rds[0].id]
  publicly_accessible    = false

  # Production: standby in a second AZ, protected from deletion, a final snapshot, a week of backups.
  multi_az                  = var.environment == "production"
  deletion_protection       = var.environment == "production"
  skip_final_snapshot       = var.environment != "production"
  final_snapshot_identifier = var.environment == "production" ? "${var.project_name}-${var.environment}-final-snapshot" : null
  backup_retention_period   = var.environment == "production" ? 7 : 1
  backup_window             = "03:00-04:00"
  maintenance_window        = "Mon:04:00-Mon:05:00"

  performance_insights_enabled = var.environment == "production"

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-postgres"
  })
}

# Once, when RDS is switched on: stops the in-cluster postgres (kubectl with the caller's context; no-op if absent).
resource "null_resource" "postgres_scale_down" {
  count = var.create_rds ? 1 : 0

  provisioner "local-exec" {
    command = "kubectl scale deployment/postgres -n tesslate --replicas=0 2>/dev/null || true"
  }

  depends_on = [kubernetes_namespace.tesslate]
}

# ── Redis on ElastiCache (create_elasticache): pub/sub, task queue and locks shared by the API pods. ──

resource "aws_security_group" "redis" {
  count = var.create_elasticache ? 1 : 0

  name_prefix = "${var.project_name}-${var.environment}-redis-"
  vpc_id      = module.vpc.vpc_id

  ingress {
    description     = "Redis from EKS nodes"
    from_port       = 6379
    to_port         = 6379
    protocol        = "tcp"
    security_groups = [module.eks.node_security_group_id]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-redis-sg"
  })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_elasticache_subnet_group" "redis" {
  count = var.create_elasticache ? 1 : 0

  name       = "${var.project_name}-${var.environment}-redis-subnet"
  subnet_ids = module.vpc.private_subnets

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-redis-subnet"
  })
}

resource "aws_elasticache_replication_group" "redis" {
  count = var.create_elasticache ? 1 : 0

  replication_group_id = "${var.project_name}-${var.environment}-redis"
  description          = "Tesslate ${var.environment} Redis backplane"

  engine               = "redis"
  engine_version       = "7.1"
  node_type            = var.elasticache_node_type
  num_cache_clusters   = 1
  port                 = 6379
  parameter_group_name = "default.redis7"

  subnet_group_name  = aws_elasticache_subnet_group.redis[0].name
  security_group_ids = [aws_security_group.redis[0].id]

  # Encrypted at rest; plain inside the VPC (TLS would add latency to every call).
  at_rest_encryption_enabled = true
  transit_encryption_enabled = false

  # One node: nothing to fail over to.
  automatic_failover_enabled = false
  multi_az_enabled           = false

  maintenance_window       = "Mon:05:00-Mon:06:00"
  snapshot_retention_limit = var.environment == "production" ? 1 : 0
  snapshot_window          = "04:00-05:00"
  apply_immediately        = true

  tags = merge(local.common_tags, {
    Name = "${var.project_name}-${var.environment}-redis"
  })
}

# Once, when ElastiCache is switched on: stops the in-cluster redis.
resource "null_resource" "redis_scale_down" {
  count = var.create_elasticache ? 1 : 0

  provisioner "local-exec" {
    command = "kubectl scale deployment/redis -n tesslate --replicas=0 --timeout=60s 2>/dev/null || true"
  }

  depends_on = [kubernetes_namespace.tesslate]
}
