CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    reset_token text,
    created_at timestamptz NOT NULL DEFAULT now()
);
