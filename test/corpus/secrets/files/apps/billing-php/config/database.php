<?php

return [
    'connections' => [
        'pgsql' => [
            'host' => env('DB_HOST', '127.0.0.1'),
            'password' => env('DB_PASSWORD', ''),
        ],
    ],
    'redis' => [
        'default' => ['password' => env('REDIS_PASSWORD')],
    ],
];
