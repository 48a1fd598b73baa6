#!/bin/sh
set -eu
PGPASSWORD='lxx4Z2_uOZPzeoSh-*eB' pg_dump -h db.internal -U backup billing > /backups/billing.sql
mysqldump -u root -p"$MYSQL_ROOT_PASSWORD" shop > /backups/shop.sql
