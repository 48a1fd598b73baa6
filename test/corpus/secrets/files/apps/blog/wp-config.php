<?php
define( 'DB_NAME', 'wp_blog' );
define( 'DB_USER', 'wp_blog' );
define( 'DB_PASSWORD', 'hT-DBHpxG*__M4k_PBFd' );
define( 'DB_HOST', 'mysql.internal' );
define( 'AUTH_KEY',         'gw[;}bd,NznKdh!NcEw|i`rf(QJZ.|HL*wR2I:]ljuJULaE@pOxNnVmove7{Q~>K' );
define( 'NONCE_SALT',       'put your unique phrase here' );
$table_prefix = 'wp_';
