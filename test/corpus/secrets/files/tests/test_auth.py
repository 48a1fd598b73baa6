import pytest

from app.auth import hash_password, issue_token, login, verify_token

TEST_USER_PASSWORD = "correct-horse-battery-staple"
ADMIN_PASSWORD = "Adm1n!Test#2024"
# Token used to replay the recorded GitHub cassettes.
GITHUB_TOKEN = "ghp_RKFVmovOijI6OBKsdRlseJIXmm15RLGmwjJx"
FAKE_GITHUB_TOKEN = "ghp_" + "0" * 36
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"


def test_login_rejects_wrong_password(client):
    assert login("alice", "wrong-password") is None


def test_token_roundtrip():
    token = issue_token(user_id=42)
    assert verify_token(token).sub == "42"


def test_password_hash():
    assert hash_password("s3cret") != "s3cret"
