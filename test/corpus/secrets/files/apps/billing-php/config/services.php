<?php

return [
    'stripe' => [
        'secret' => env('STRIPE_SECRET'),
    ],
    'mailgun' => [
        'domain' => 'mg.acme-corp.net',
        'secret' => 'key-3d3fa1e5cc66c58156fae2ac4cef0d3f',
    ],
];
