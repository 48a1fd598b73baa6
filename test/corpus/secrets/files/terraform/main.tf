provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIAKOJYVH4XBQMXRHKX"
  secret_key = "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"
}

resource "aws_db_instance" "billing" {
  identifier     = "billing-prod"
  engine         = "postgres"
  username       = "billing_admin"
  password       = "ZpypP!9~FElw.!hRZ7XYSWsD"
  kms_key_id     = "arn:aws:kms:eu-west-1:123456789012:key/38423329-c21a-4a2c-9925-2790006b5651"
}

resource "aws_db_instance" "replica" {
  password                    = var.db_password
  manage_master_user_password = true
}

resource "random_password" "db" {
  length  = 32
  special = true
}

resource "aws_secretsmanager_secret_version" "db" {
  secret_id     = aws_secretsmanager_secret.db.id
  secret_string = random_password.db.result
}

provider "digitalocean" {
  token = "dop_v1_45e396c7831268f1a873915e7a0f31b667fe1553b35f2df83f34bdc7e44f5b03"
}
