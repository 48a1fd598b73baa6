import os

import pytest

JWT_SECRET = "NeDGUMdO7n7G1RZrQ84F1IH9vjMOodGxWzsm3y7jWA9l1i9Mjg8qikGZAckPLLxf"
os.environ.setdefault("DATABASE_URL", "postgres://test:test@localhost:5432/test")


@pytest.fixture
def admin_credentials():
    return {"username": "admin", "password": "admin-pass-123"}
