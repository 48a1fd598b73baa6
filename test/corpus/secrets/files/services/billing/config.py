"""Billing service settings."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-insecure-pk80a!6#bh-c3*)jvvhd!64@y0kiu_z(hsl1!0+mf#tic4vd(5"
DEBUG = False
ALLOWED_HOSTS = ["billing.acme-corp.net"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "billing",
        "USER": "billing_app",
        "PASSWORD": "LQ..bk_HPo5J2=Q64T",
        "HOST": os.environ.get("DB_HOST", "localhost"),
    },
    "replica": {
        "ENGINE": "django.db.backends.postgresql",
        "PASSWORD": os.environ["REPLICA_DB_PASSWORD"],
    },
}

AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
PASSWORD_RESET_TIMEOUT = 259200
STRIPE_API_KEY = os.getenv("STRIPE_API_KEY")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
CSRF_COOKIE_NAME = "billing_csrftoken"
SESSION_COOKIE_SECURE = True
